// Who may read a row (docs/architecture.md, "Publishing and sharing"). Every read of the records
// core is scoped to the working account, with the exceptions decided here, a Sharing each:
//
// - the owner (`account_id`) reads all its rows, and alone writes them unless the resource's
//   rules let a reader write some fields (an app instance's provider);
// - byTrust: a customer account that trusts the owner as a provider (a row of `trusts`,
//   `trusted` = 1) reads the rows the resource shares (an app offering's published versions);
// - byInstall: a customer reads the offerings its app instances use;
// - byProvider: a provider reads the app instances of its offerings (`provider_account`).
//
// A collection that reads shared rows is kept (records/reuse.ts) under a watermark that covers
// every account whose rows it may show (`accounts`): the largest change_seq among their rows in
// the table and its references' tables, and among the rows that decide what the working account
// sees (`deciders`: its trusts, its instances), so trusting, untrusting, installing and any change
// of another account's row move it.
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely'

export const TRUSTS_TABLE = 'trusts'
export const INSTANCES_TABLE = 'app_instances'

type EB = ExpressionBuilder<any, any>

/** Who besides a row's owner may read it. */
export interface Sharing {
  /** A key for the statements made for it. */
  name: string
  /** The rows `account` may read besides its own (columns qualified by `alias` when given). */
  readers(eb: EB, account: unknown, alias?: string): Expression<SqlBool>
  /** Subqueries of the other accounts whose rows (and their references' targets) a read may show. */
  accounts(eb: EB, account: unknown): Array<ReturnType<typeof trustedProviders>>
  /** Rows of the working account that decide what it may read: `column` = the account. */
  deciders: Array<{ table: string; column: string }>
}

const column = (alias: string | undefined, name: string) => (alias ? `${alias}.${name}` : name)

/** The provider accounts `account` trusts. */
export function trustedProviders(eb: EB, account: unknown) {
  return eb.selectFrom(TRUSTS_TABLE).select('provider_account as account').where('account_id', '=', account).where('trusted', '=', 1)
}

/** The accounts whose offerings `account` has installed. */
const providersOf = (eb: EB, account: unknown) => eb.selectFrom(INSTANCES_TABLE).select('provider_account as account').where('account_id', '=', account)
/** The accounts that have installed offerings of `account`. */
const customersOf = (eb: EB, account: unknown) => eb.selectFrom(INSTANCES_TABLE).select('account_id as account').where('provider_account', '=', account)

/** A customer reads the rows (`rows`) of the providers it trusts. */
export function byTrust(rows: (eb: EB, alias?: string) => Expression<SqlBool>): Sharing {
  return {
    name: 'trust',
    readers: (eb, account, alias) => eb.and([eb(column(alias, 'account_id'), 'in', trustedProviders(eb, account)), rows(eb, alias)]),
    accounts: (eb, account) => [trustedProviders(eb, account)],
    deciders: [{ table: TRUSTS_TABLE, column: 'account_id' }],
  }
}

/** A customer reads the offerings its app instances use. */
export const byInstall: Sharing = {
  name: 'install',
  readers: (eb, account, alias) => eb(column(alias, 'id'), 'in', eb.selectFrom(INSTANCES_TABLE).select('app_offering_id').where('account_id', '=', account)),
  accounts: (eb, account) => [providersOf(eb, account)],
  deciders: [{ table: INSTANCES_TABLE, column: 'account_id' }],
}

/** A provider reads the app instances of its offerings; a customer's instances show the providers' offerings. */
export const byProvider: Sharing = {
  name: 'provider',
  readers: (eb, account, alias) => eb(column(alias, 'provider_account'), '=', account),
  accounts: (eb, account) => [customersOf(eb, account), providersOf(eb, account)],
  deciders: [{ table: INSTANCES_TABLE, column: 'provider_account' }],
}

/** Any of these. */
export function anyOf(...sharings: Sharing[]): Sharing {
  return {
    name: sharings.map((s) => s.name).join('+'),
    readers: (eb, account, alias) => eb.or(sharings.map((s) => s.readers(eb, account, alias))),
    accounts: (eb, account) => sharings.flatMap((s) => s.accounts(eb, account)),
    deciders: sharings.flatMap((s) => s.deciders),
  }
}

/** The rows `account` may read under this sharing: its own, and what the sharing lets it read. */
export function visibleRows(eb: EB, account: unknown, sharing: Sharing, alias?: string): Expression<SqlBool> {
  return eb.or([eb(column(alias, 'account_id'), '=', account), sharing.readers(eb, account, alias)])
}

/** The rows of the accounts a read under this sharing may show (for its watermark). */
export function watermarkAccounts(eb: EB, account: unknown, sharing: Sharing): Expression<SqlBool> {
  return eb.or([eb('account_id', '=', account), ...sharing.accounts(eb, account).map((accounts) => eb('account_id', 'in', accounts))])
}
