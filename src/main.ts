// The `app-offerings` command: one module per command group under cli/.
import { ConfigError } from './config.ts'
import { UsageError } from './cli/args.ts'

const USAGE = `usage: app-offerings <command>

  serve [--workers N]                      run the API server (npm start)
  migrate                                  create or update the database schema
  accounts create <id> --name <name>       add an account
  accounts trust <customer> <provider>     the customer sees the provider's published offerings
  accounts untrust <customer> <provider>   and no longer does
  tokens create --account <id> [--scope read|write] [--name <label>]
                                           issue a token (printed once, on the last line)
  tokens list --account <id>               list an account's tokens (never the tokens)
  tokens revoke <token-id>                 revoke a token
  seed --account <id> --offerings <n> [--service-instance <id>]
                                           bulk-create draft offerings for demos and benchmarks

Settings come from the environment (DATABASE_URL, PORT, HOST, ...): see the README.`

type Command = (args: string[]) => Promise<number>

// Loaded on use: only `serve` needs the HTTP stack, and the other commands start a second sooner.
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./cli/serve.ts')).serveCommand,
  migrate: async () => (await import('./cli/migrate.ts')).migrateCommand,
  accounts: async () => (await import('./cli/accounts.ts')).accountsCommand,
  tokens: async () => (await import('./cli/tokens.ts')).tokensCommand,
  seed: async () => (await import('./cli/seed.ts')).seedCommand,
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  const load = name && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (!load) {
    process.stderr.write(`${USAGE}\n`)
    return name === undefined || name === 'help' || name === '--help' ? 0 : 2
  }
  try {
    return await (await load())(rest)
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) {
      process.stderr.write(`app-offerings: ${error.message}\n`)
      return 2
    }
    process.stderr.write(`app-offerings: ${(error as Error).message}\n`)
    return 1
  }
}
