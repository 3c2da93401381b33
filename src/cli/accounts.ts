import { createAccount, listAccounts } from '../storage/accounts.ts'
import { noMoreThan, parse, required, UsageError, withDatabase } from './args.ts'

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000', '')

export async function accountsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { name: { type: 'string' } })
  const [action, id, other] = positionals
  switch (action) {
    case 'create': {
      noMoreThan(positionals, 2, 'accounts create')
      const accountId = required(id, 'account id')
      const name = required(values.name as string | undefined, '--name')
      await withDatabase((database) => createAccount(database, accountId, name))
      process.stdout.write(`created account ${accountId}\n`)
      return 0
    }
    case 'list': {
      noMoreThan(positionals, 1, 'accounts list')
      if (values.name !== undefined) throw new UsageError('accounts list takes no --name')
      const { trustedBy } = await import('./trust.ts')
      const listed = await withDatabase(async (database) => {
        const accounts = await listAccounts(database)
        return Promise.all(accounts.map(async (a) => ({ ...a, trusts: await trustedBy(database, a.id) })))
      })
      process.stdout.write('id\tname\tcreated\ttrusts\n')
      for (const a of listed) process.stdout.write(`${a.id}\t${a.name}\t${iso(a.createdAt)}\t${a.trusts.join(',')}\n`)
      return 0
    }
    case 'trust':
    case 'untrust': {
      noMoreThan(positionals, 3, `accounts ${action}`)
      const customer = required(id, 'customer account id')
      const provider = required(other, 'provider account id')
      const { setTrust } = await import('./trust.ts')
      const changed = await withDatabase((database) => setTrust(database, customer, provider, action === 'trust'))
      const what = action === 'trust' ? `${customer} trusts ${provider}` : `${customer} does not trust ${provider}`
      process.stdout.write(`${what}${changed ? '' : ' (unchanged)'}\n`)
      return 0
    }
    case undefined:
      throw new UsageError('missing subcommand: accounts create|list|trust|untrust')
    default:
      throw new UsageError(`unknown command: accounts ${action}`)
  }
}
