import { createAccount } from '../storage/accounts.ts'
import { parse, required, UsageError, withDatabase } from './args.ts'

const USAGE = 'usage: accounts create <id> --name <name> | accounts trust <customer> <provider> | accounts untrust <customer> <provider>'

export async function accountsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { name: { type: 'string' } })
  const [action, id, other] = positionals
  if (action === 'trust' || action === 'untrust') {
    const customer = required(id, 'customer account id')
    const provider = required(other, 'provider account id')
    const { setTrust } = await import('./trust.ts')
    const changed = await withDatabase((database) => setTrust(database, customer, provider, action === 'trust'))
    const what = action === 'trust' ? `${customer} trusts ${provider}` : `${customer} does not trust ${provider}`
    process.stdout.write(`${what}${changed ? '' : ' (unchanged)'}\n`)
    return 0
  }
  if (action !== 'create') throw new UsageError(USAGE)
  const accountId = required(id, 'account id')
  const name = required(values.name as string | undefined, '--name')
  await withDatabase((database) => createAccount(database, accountId, name))
  process.stdout.write(`created account ${accountId}\n`)
  return 0
}
