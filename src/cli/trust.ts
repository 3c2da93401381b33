// `accounts trust <customer> <provider>` and `accounts untrust`: the administrator sets up trust
// between accounts (app-offerings.md). A trust is a record of the customer, written through the
// records core like any other (RecordWriter: rules, one transaction, an audit entry); untrusting
// sets `trusted` to false on the same row.
import { RecordStore } from '../records/store.ts'
import { RecordWriter } from '../records/write.ts'
import { trusts } from '../resources/trusts/fields.ts'
import { trustRules } from '../resources/trusts/rules.ts'
import { AccountError, findAccount } from '../storage/accounts.ts'
import type { Database } from '../storage/database.ts'

const ADMINISTRATOR = { actor: { id: null, name: 'administrator' } }

/** Sets whether `customer` trusts `provider`; answers whether anything changed. */
export async function setTrust(database: Database, customerId: string, providerId: string, trusted: boolean): Promise<boolean> {
  const customer = await findAccount(database, customerId)
  if (!customer) throw new AccountError(`account "${customerId}" does not exist`)
  if (!(await findAccount(database, providerId))) throw new AccountError(`account "${providerId}" does not exist`)
  if (customerId === providerId) throw new AccountError('an account cannot trust itself')
  const store = new RecordStore(database, trusts)
  const writer = new RecordWriter(store, trustRules)
  const found = await store.db.selectFrom(trusts.table).select('id').where('account_id', '=', customerId).where('provider_account', '=', providerId).executeTakeFirst()
  const existing = found ? await store.find(customerId, Number(found.id)) : undefined
  if (existing) {
    const row = await writer.update(customer, existing, { trusted }, ADMINISTRATOR)
    return row !== existing
  }
  if (!trusted) return false
  await writer.create(customer, { provider_account: providerId, trusted: true }, ADMINISTRATOR)
  return true
}

/** The providers an account trusts. */
export async function trustedBy(database: Database, customerId: string): Promise<string[]> {
  const store = new RecordStore(database, trusts)
  const rows = await store.db.selectFrom(trusts.table).select('provider_account').where('account_id', '=', customerId).where('trusted', '=', 1).orderBy('provider_account').execute()
  return rows.map((row) => String(row.provider_account))
}
