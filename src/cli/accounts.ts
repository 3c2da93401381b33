import { createAccount, listAccounts } from '../storage/accounts.ts'
import { noMoreThan, parse, required, UsageError, withDatabase } from './args.ts'

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000', '')

export async function accountsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { name: { type: 'string' } })
  const [action, id] = positionals
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
      const accounts = await withDatabase((database) => listAccounts(database))
      process.stdout.write('id\tname\tcreated\n')
      for (const a of accounts) process.stdout.write(`${a.id}\t${a.name}\t${iso(a.createdAt)}\n`)
      return 0
    }
    case undefined:
      throw new UsageError('missing subcommand: accounts create|list')
    default:
      throw new UsageError(`unknown command: accounts ${action}`)
  }
}
