// Where a page stands, in one place: its number, whether pages come before and after it, and the
// sort values of its first and last record (the boundaries its cursors carry).
import type { Row } from '../catalogue/resource.ts'
import type { Plan } from './parse.ts'

export interface PageInfo {
  page: number
  hasNext: boolean
  hasPrev: boolean
  /** Sort key values of the first and last record of the page (none on an empty page). */
  first?: unknown[]
  last?: unknown[]
}

export interface Count {
  total: number
  /** More records match than were counted. */
  throttled: boolean
  /**
   * What was counted (a digest of the account, collection and filters): a cursor carries the
   * count only for a request that counts the same thing.
   */
  scope?: string
}

/**
 * The page the plan asked for, given its rows (in answer order) and whether a row followed them
 * in the direction read. A page reached backwards whose rows have no predecessor is page 1.
 */
export function pageInfo(plan: Plan, rows: readonly Row[], more: boolean): PageInfo {
  const boundary = (row: Row | undefined) => row && plan.sort.map((key) => row[key.field.column!])
  const edges = { first: boundary(rows[0]), last: boundary(rows.at(-1)) }
  const paging = plan.paging
  switch (paging.kind) {
    case 'first':
      return { page: 1, hasNext: more, hasPrev: false, ...edges }
    case 'page':
      return { page: paging.page, hasNext: more, hasPrev: paging.page > 1, ...edges }
    case 'cursor':
      return paging.direction === 'after'
        ? { page: Math.max(2, paging.page), hasNext: more, hasPrev: true, ...edges }
        : { page: more ? Math.max(2, paging.page) : 1, hasNext: true, hasPrev: more, ...edges }
  }
}
