// What `--help` prints: the whole command, each command and each subcommand. Kept apart from the
// commands so that help never loads a database driver or the HTTP stack.

export const USAGE = `usage: app-offerings <command> [options]

  serve [--workers N]                      run the API server (npm start)
  worker                                   send webhook deliveries, without the API server
  migrate                                  create or update the database schema
  accounts create <id> --name <name>       add an account (with its default person)
  accounts list                            list the accounts: ids, names, created, whom they trust
  accounts trust <customer> <provider>     the customer sees the provider's published offerings
  accounts untrust <customer> <provider>   and no longer does
  tokens create --account <id> [--scope read|write] [--name <label>]
                [--person <name> [--email <address>]]
                                           issue a token (printed once, on the last line)
  tokens list --account <id>               list an account's tokens (never the tokens)
  tokens revoke <token-id>                 revoke a token
  seed --account <id> --offerings <n> [--service-instance <id>]
                                           bulk-create draft offerings for demos and benchmarks
  help [<command>]                         this text, or a command's

Every command takes --help (or -h). Settings come from the environment (DATABASE_URL, PORT,
HOST, ...): see the README's configuration reference.`

const SUBCOMMANDS: Record<string, Record<string, string>> = {
  serve: {
    '': `usage: app-offerings serve [--workers N]

Runs the API server on HOST:PORT (default 127.0.0.1:3000), migrating the database first. On an
empty database it creates the account "demo" and prints a write token for it once, on stderr.
It also sends webhook deliveries, unless WEBHOOK_WORKER=false (see: app-offerings worker).

  --workers N   processes sharing the port (also WORKERS; needs PostgreSQL and REDIS_URL)`,
  },
  worker: {
    '': `usage: app-offerings worker

Sends the webhook deliveries waiting in the database (signed, retried, in order per webhook), without
serving the API; stops on SIGTERM or SIGINT once its sends in flight end. serve sends them too
unless WEBHOOK_WORKER=false; any number of workers may share one PostgreSQL. Needs a migrated
database and the deployment's SECRET_KEY (or the one kept in the database). Takes no arguments.

Settings: WEBHOOK_ISSUER, WEBHOOK_ALLOW_PRIVATE, WEBHOOK_TIMEOUT, WEBHOOK_MAX_ATTEMPTS,
WEBHOOK_RETRY_BASE_MS, WEBHOOK_POLL_MS, WEBHOOK_CONCURRENCY (see the README).`,
  },
  migrate: {
    '': `usage: app-offerings migrate

Creates or updates the schema of DATABASE_URL; safe to run again. Takes no arguments.`,
  },
  accounts: {
    '': `usage: app-offerings accounts create <id> --name <name>
       app-offerings accounts list
       app-offerings accounts trust <customer> <provider>
       app-offerings accounts untrust <customer> <provider>`,
    create: `usage: app-offerings accounts create <id> --name <name>

Adds an account and its default person ("Administrator"), who owns the tokens made without --person.

  <id>           2 to 32 of a-z 0-9 -, starting with a letter (the X-4me-Account value)
  --name <name>  the account's name, 1 to 128 characters`,
    list: `usage: app-offerings accounts list

Lists the accounts: id, name, creation time and the providers each trusts (tab-separated).`,
    trust: `usage: app-offerings accounts trust <customer> <provider>

The customer account trusts the provider account: it sees the provider's newest published
offerings (all_latest_published) and may install them.`,
    untrust: `usage: app-offerings accounts untrust <customer> <provider>

The customer no longer trusts the provider: the provider's offerings are hidden from it again.`,
  },
  tokens: {
    '': `usage: app-offerings tokens create --account <id> [--scope read|write] [--name <label>] [--person <name> [--email <address>]]
       app-offerings tokens list --account <id>
       app-offerings tokens revoke <token-id>`,
    create: `usage: app-offerings tokens create --account <id> [--scope read|write] [--name <label>]
                                  [--person <name> [--email <address>]]

Issues a token and prints "id <n>", then the token alone on the last line. It is never shown again.

  --account <id>       the account the token works in
  --scope read|write   write (default) or read only
  --name <label>       a label for tokens list
  --person <name>      the person the token belongs to (GET /v1/me), made when the account has
                       none of that name; without it, the account's default person
  --email <address>    the person's primary e-mail address`,
    list: `usage: app-offerings tokens list --account <id>

Lists an account's tokens: id, scope, label, person, created, last used, revoked. Never the tokens.`,
    revoke: `usage: app-offerings tokens revoke <token-id>

Revokes a token; a running server stops accepting it within 2 seconds.`,
  },
  seed: {
    '': `usage: app-offerings seed --account <id> --offerings <n> [--service-instance <id>]

Bulk-creates realistic draft offerings (for demos and benchmarks).

  --account <id>            the account to fill
  --offerings <n>           how many, 1 to 10,000,000
  --service-instance <id>   their service instance (default: a new one)`,
  },
}

export const COMMAND_NAMES = Object.keys(SUBCOMMANDS)

const HELP_FLAGS = new Set(['--help', '-h'])

/**
 * The usage text asked for by these arguments of a command (`--help` or `-h` anywhere before
 * `--`, or `help` as the first argument), or undefined when help was not asked for.
 */
export function helpFor(command: string, args: string[]): string | undefined {
  const end = args.indexOf('--')
  const options = end === -1 ? args : args.slice(0, end)
  const asked = options.some((arg) => HELP_FLAGS.has(arg)) || args[0] === 'help'
  if (!asked) return undefined
  return usageOf(command, args.find((arg) => !arg.startsWith('-') && arg !== 'help'))
}

/** A command's usage, or its subcommand's when it has one of that name. */
export function usageOf(command: string, subcommand?: string): string {
  const texts = SUBCOMMANDS[command]
  if (!texts) return USAGE
  return (subcommand !== undefined && Object.hasOwn(texts, subcommand) && subcommand !== '' ? texts[subcommand] : texts['']) ?? USAGE
}
