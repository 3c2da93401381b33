// The `app-offerings` command: one module per command group under cli/. Help goes to stdout and
// exits 0; a usage error is one line on stderr and exits 2; a failure exits 1.
import { ConfigError } from './config.ts'
import { UsageError } from './cli/args.ts'
import { COMMAND_NAMES, helpFor, USAGE, usageOf } from './cli/usage.ts'

type Command = (args: string[]) => Promise<number>

// Loaded on use: only `serve` needs the HTTP stack, and the other commands start a second sooner.
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./cli/serve.ts')).serveCommand,
  migrate: async () => (await import('./cli/migrate.ts')).migrateCommand,
  accounts: async () => (await import('./cli/accounts.ts')).accountsCommand,
  tokens: async () => (await import('./cli/tokens.ts')).tokensCommand,
  seed: async () => (await import('./cli/seed.ts')).seedCommand,
  worker: async () => (await import('./cli/worker.ts')).workerCommand,
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined) {
    process.stderr.write(`${USAGE}\n`)
    return 2
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    const about = rest.find((arg) => !arg.startsWith('-'))
    if (about !== undefined && !COMMAND_NAMES.includes(about)) return usageError(`unknown command: ${about}`)
    process.stdout.write(`${about === undefined ? USAGE : usageOf(about, rest[rest.indexOf(about) + 1])}\n`)
    return 0
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (!load) return usageError(`unknown command: ${name}`)
  const help = helpFor(name, rest)
  if (help !== undefined) {
    process.stdout.write(`${help}\n`)
    return 0
  }
  try {
    return await (await load())(rest)
  } catch (error) {
    if (error instanceof UsageError) return usageError(error.message, name)
    if (error instanceof ConfigError) {
      process.stderr.write(`app-offerings: ${error.message}\n`)
      return 2
    }
    process.stderr.write(`app-offerings: ${(error as Error).message}\n`)
    return 1
  }
}

/** One line: what was wrong, and where the usage is. */
function usageError(message: string, command?: string): number {
  process.stderr.write(`app-offerings: ${message} (see: app-offerings ${command ? `${command} ` : ''}--help)\n`)
  return 2
}
