import { findAccount } from '../storage/accounts.ts'
import { createToken, listTokens, revokeToken, type Scope } from '../storage/tokens.ts'
import { findOrCreatePerson, PersonError } from '../storage/people.ts'
import { noMoreThan, parse, required, UsageError, withDatabase } from './args.ts'

const iso = (seconds: number | null) => (seconds === null ? '-' : new Date(seconds * 1000).toISOString().replace('.000', ''))

export async function tokensCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    account: { type: 'string' },
    scope: { type: 'string' },
    name: { type: 'string' },
    person: { type: 'string' },
    email: { type: 'string' },
  })
  const [action, target] = positionals
  switch (action) {
    case 'create': {
      noMoreThan(positionals, 1, 'tokens create')
      const account = required(values.account as string | undefined, '--account')
      const person = values.person as string | undefined
      const email = values.email as string | undefined
      if (email !== undefined && person === undefined) throw new UsageError('--email needs --person')
      const scope = (values.scope ?? 'write') as string
      if (scope !== 'read' && scope !== 'write') throw new UsageError('--scope must be read or write')
      const created = await withDatabase(async (database) => {
        if (!(await findAccount(database, account))) throw new UsageError(`no account "${account}"`)
        let personId: number | undefined
        try {
          personId = person === undefined ? undefined : await findOrCreatePerson(database, account, person, email)
        } catch (error) {
          throw error instanceof PersonError ? new UsageError(error.message) : error
        }
        return createToken(database, account, { scope: scope as Scope, name: (values.name as string | undefined) ?? '', personId })
      })
      // The token alone on the last line, so scripts can take it with `tail -n 1`.
      process.stdout.write(`id ${created.id}\n${created.token}\n`)
      return 0
    }
    case 'list': {
      noMoreThan(positionals, 1, 'tokens list')
      const account = required(values.account as string | undefined, '--account')
      const tokens = await withDatabase((database) => listTokens(database, account))
      process.stdout.write('id\tscope\tname\tperson\tcreated\tlast used\trevoked\n')
      for (const t of tokens) {
        process.stdout.write(`${t.id}\t${t.scope}\t${t.name || '-'}\t${t.personName || '-'}\t${iso(t.createdAt)}\t${iso(t.lastUsedAt)}\t${iso(t.revokedAt)}\n`)
      }
      return 0
    }
    case 'revoke': {
      noMoreThan(positionals, 2, 'tokens revoke')
      const id = required(target, 'token id')
      if (!/^\d+$/.test(id)) throw new UsageError('token id must be a number')
      const revoked = await withDatabase((database) => revokeToken(database, Number(id)))
      if (!revoked) {
        process.stderr.write(`app-offerings: no live token ${id}\n`)
        return 1
      }
      process.stdout.write(`revoked token ${id}\n`)
      return 0
    }
    case undefined:
      throw new UsageError('missing subcommand: tokens create|list|revoke')
    default:
      throw new UsageError(`unknown command: tokens ${action}`)
  }
}
