// Who may read a row (docs/architecture.md, "Publishing and sharing"). Every read of the
// records core is scoped to the working account, with one exception decided here:
//
// - the owner (`account_id`) reads, and alone writes, all its rows;
// - a customer account that trusts the owner as a provider (a row of `trusts`, `trusted` = 1)
//   reads the rows the resource shares (`Sharing.rows`: an app offering's published versions),
//   by id (RecordStore.findVisible) and in a collection that asks for them (a Subset with
//   `shared`), never in the owner's other collections, audit trails or writes;
// - (issue 12 item 3, not yet here: a customer reads the versions its app instances use.)
//
// A collection that reads shared rows is kept (records/reuse.ts) under a watermark that covers
// every account whose rows it may show: the largest change_seq among the rows of the working
// account and of every provider it trusts, in the table and its references' tables, and among the
// working account's trusts, so trusting, untrusting and any change of a provider's row move it.
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely'
import type { Scope } from './store.ts'

export const TRUSTS_TABLE = 'trusts'

/** What a resource shares with the customers that trust its owner. */
export interface Sharing {
  /** The rows of an owner that its trusting customers may read (columns qualified by `alias` when given). */
  rows: (eb: ExpressionBuilder<any, any>, alias?: string) => Expression<SqlBool>
  /** The field that renders a shared row's owner: a collection of shared rows shows it by default. */
  owner: string
}

/** The provider accounts `account` trusts, as a subquery of account ids. */
export function trustedProviders(eb: ExpressionBuilder<any, any>, account: unknown) {
  return eb.selectFrom(TRUSTS_TABLE).select('provider_account').where('account_id', '=', account).where('trusted', '=', 1)
}

/** The rows of the table `account` may read through a shared collection: its own, and what the providers it trusts share. */
export function visibleRows(eb: ExpressionBuilder<any, any>, account: unknown, sharing: Sharing, alias?: string): Expression<SqlBool> {
  const owner = alias ? `${alias}.account_id` : 'account_id'
  return eb.or([eb(owner, '=', account), eb.and([eb(owner, 'in', trustedProviders(eb, account)), sharing.rows(eb, alias)])])
}
