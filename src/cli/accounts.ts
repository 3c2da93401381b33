import { createAccount } from '../storage/accounts.ts'
import { parse, required, UsageError, withDatabase } from './args.ts'

export async function accountsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { name: { type: 'string' } })
  const [action, id] = positionals
  if (action !== 'create') throw new UsageError('usage: accounts create <id> --name <name>')
  const accountId = required(id, 'account id')
  const name = required(values.name as string | undefined, '--name')
  await withDatabase((database) => createAccount(database, accountId, name))
  process.stdout.write(`created account ${accountId}\n`)
  return 0
}
