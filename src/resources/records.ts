// Generic storage of a resource's records, driven by its catalogue: every statement is scoped by
// account, names only catalogue columns, and binds every value. Every resource table has id,
// account_id, created_at, updated_at and lock_version besides its catalogue columns.
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely'
import { referenceColumns, type Field, type Resource, type Row } from '../catalogue/resource.ts'
import type { Database } from '../storage/database.ts'
import { isUniqueViolation, nowSeconds } from '../storage/database.ts'
import { markChanged } from '../storage/accounts.ts'
import { Placeholder, prepared, run, shape, type Shaped } from '../storage/prepared.ts'
import { planShape } from '../query/shape.ts'
import { filtersExpression, keysetExpression, orderKeys } from '../query/compile.ts'
import { ResultCache, countKey, pageKey } from '../query/results.ts'
import type { Plan } from '../query/parse.ts'
import type { Count, PageInfo } from '../query/links.ts'

export type Scope = (eb: ExpressionBuilder<any, any>) => Expression<SqlBool>

/** A predefined filter: its path segment and the condition it adds. */
export interface Subset {
  name: string
  where: Scope
}

export class UniqueViolation extends Error {}

const TARGET_COLUMNS = ['id', 'name', 'source_id']
const MAX_SHAPES = 1000
const KEPT_COUNTS = 10_000

/**
 * A page's rows (their heads, sort keys and the columns of the page's fields, references
 * attached) and where it stands; shared by every answer that reuses it: never changed.
 */
export interface Page {
  readonly rows: readonly Row[]
  readonly info: PageInfo
}

export interface Collection {
  page: Page
  count: Count
}

export class RecordStore {
  private readonly db: Kysely<any>
  /** What rendering needs, plus the version behind ETags. */
  private readonly columns: string[]
  /** A record's head: its id, its version and its references, which is what answers read (see presenter.ts). */
  private readonly headColumns: string[]
  private readonly counts = new ResultCache<Count>(KEPT_COUNTS)
  private readonly pageResults: ResultCache<Page>
  /** Compiled page statements by plan shape (see query/shape.ts). */
  private readonly pages = new Map<string, Shaped<Row>>()
  private readonly findById: (account: string, id: number) => Promise<Row[]>
  private readonly headById: (account: string, id: number) => Promise<Row[]>
  private readonly changes: (account: string) => Promise<Array<{ changes: unknown }>>
  /** One target by id, per reference field whose targets are stored (others render null). */
  private readonly targetById = new Map<string, (account: string, id: number) => Promise<Row[]>>()

  constructor(
    private readonly database: Database,
    readonly resource: Resource,
    /** How many pages to keep (see query/results.ts); each holds up to 100 rows. */
    keptPages = 0,
  ) {
    this.db = database.db as Kysely<any>
    this.pageResults = new ResultCache<Page>(keptPages)
    this.columns = [...resource.columns, 'lock_version']
    this.headColumns = ['id', 'lock_version', ...resource.readable.filter((f) => f.type.kind === 'reference').map((f) => f.column!)]
    this.findById = prepared(this.database, 2, (account, id) => this.base(account).select(this.columns).where('id', '=', id))
    this.headById = prepared(this.database, 2, (account, id) => this.headQuery(account, id))
    this.changes = prepared(this.database, 1, (account) => this.db.selectFrom('accounts').select('changes').where('id', '=', account))
    for (const field of resource.readable) {
      const table = field.type.target?.table
      if (!table) continue
      this.targetById.set(field.name, prepared(this.database, 2, (account, id) =>
        this.db.selectFrom(table).select(TARGET_COLUMNS).where('account_id', '=', account).where('id', '=', id),
      ))
    }
  }

  /**
   * A head with its references' targets, as attachReferences adds them, in one statement. The
   * targets are read by correlated subqueries: SQLite runs a join of two primary-key lookups
   * about three times slower (measured: ~11 µs against ~3.5 µs).
   */
  private headQuery(account: unknown, id: unknown) {
    let query = this.db
      .selectFrom(`${this.resource.table} as r`)
      .select(this.headColumns.map((column) => `r.${column}`))
      .where('r.account_id', '=', account)
      .where('r.id', '=', id)
    for (const field of this.resource.readable) {
      const table = field.type.target?.table
      if (!table) continue
      const columns = referenceColumns(field)
      const target = (column: string) =>
        this.db.selectFrom(`${table} as t`).select(`t.${column}`).whereRef('t.account_id', '=', 'r.account_id').whereRef('t.id', '=', `r.${field.column}`)
      query = query.select([target('name').as(columns.name), target('source_id').as(columns.sourceId)])
    }
    return query
  }

  private base(account: string) {
    return this.db.selectFrom(this.resource.table).where('account_id', '=', account)
  }

  /**
   * Adds each reference's target name and sourceID to the rows (see referenceColumns): one
   * query per reference field for the whole page, a prepared one for a single target.
   */
  async attachReferences(account: string, rows: Row[], fields: Field[]): Promise<void> {
    for (const field of fields) {
      const lookup = this.targetById.get(field.name)
      if (!lookup) continue
      const ids = [...new Set(rows.map((row) => row[field.column!]).filter((id) => id != null).map(Number))]
      if (ids.length === 0) continue
      const targets =
        ids.length === 1
          ? await lookup(account, ids[0])
          : await this.db.selectFrom(field.type.target!.table!).select(TARGET_COLUMNS).where('account_id', '=', account).where('id', 'in', ids).execute()
      const byId = new Map(targets.map((target) => [Number(target.id), target]))
      const columns = referenceColumns(field)
      for (const row of rows) {
        const target = byId.get(Number(row[field.column!]))
        row[columns.name] = target?.name ?? null
        row[columns.sourceId] = target?.source_id ?? null
      }
    }
  }

  /** The record with every column. */
  async find(account: string, id: number): Promise<Row | undefined> {
    return (await this.findById(account, id))[0]
  }

  /** The record's head: id, lock_version and its references, attached. */
  async head(account: string, id: number): Promise<Row | undefined> {
    return (await this.headById(account, id))[0]
  }

  /** Records of the account in the subset that match the plan's filters. */
  private matching(account: string, plan: Plan, subset?: Subset) {
    return this.base(account).where((eb) => eb.and([...(subset ? [subset.where(eb)] : []), filtersExpression(eb, plan.filters)]))
  }

  /** The statement of a page: `account`, the plan's values and limit and offset may be placeholders. */
  private pageQuery(account: unknown, plan: Plan, subset: Subset | undefined, limit: unknown, offset: unknown) {
    const paging = plan.paging
    const keys = orderKeys(plan.sort, paging.kind === 'cursor' && paging.direction === 'before')
    // Heads (for the presenter), the sort keys (for cursors) and what the page's fields need.
    const columns = [...new Set([...this.headColumns, ...plan.sort.map((key) => key.field.column!), ...this.resource.columnsFor(plan.fields)])]
    let query = this.matching(account as string, plan, subset).select(columns)
    if (paging.kind === 'cursor') query = query.where((eb) => keysetExpression(eb, keys, paging.boundary))
    for (const key of keys) query = query.orderBy(key.column, key.direction)
    query = query.limit(limit as number)
    if (offset !== undefined) query = query.offset(offset as number)
    return query
  }

  /**
   * One page of the plan (see Page) and the number of matching records, counted exactly up to
   * `cap`. Both are reused while the account's change counter stays where it was.
   */
  async collection(account: string, plan: Plan, cap: number, subset?: Subset): Promise<Collection> {
    const [row] = await this.changes(account)
    const changes = Number(row?.changes ?? 0)
    const [page, count] = await Promise.all([this.page(account, changes, plan, subset), this.count(account, changes, plan, cap, subset)])
    return { page, count }
  }

  private async page(account: string, changes: number, plan: Plan, subset?: Subset): Promise<Page> {
    const resultKey = pageKey(account, changes, subset?.name ?? '', plan.source)
    const kept = this.pageResults.get(resultKey)
    if (kept) return kept

    const paging = plan.paging
    const backwards = paging.kind === 'cursor' && paging.direction === 'before'
    const { key, marked, values } = planShape(plan, [account])
    const limit = new Placeholder(values.push(plan.perPage + 1) - 1)
    const offset = paging.kind === 'page' ? new Placeholder(values.push((paging.page - 1) * plan.perPage) - 1) : undefined
    const shapeKey = `${subset?.name ?? ''}:${key}`

    let statement = this.pages.get(shapeKey)
    if (!statement) {
      statement = shape(this.pageQuery(new Placeholder(0), marked, subset, limit, offset), values.length)
      if (this.pages.size >= MAX_SHAPES) this.pages.clear()
      this.pages.set(shapeKey, statement)
    }
    const fetched = await run(this.database, statement, values)
    const more = fetched.length > plan.perPage
    const rows = more ? fetched.slice(0, plan.perPage) : fetched
    if (backwards) rows.reverse()
    await this.attachReferences(account, rows, plan.fields)

    const boundary = (row: Row | undefined) => row && plan.sort.map((key) => row[key.field.column!])
    const info: PageInfo = { page: 1, hasNext: more, hasPrev: false, first: boundary(rows[0]), last: boundary(rows.at(-1)) }
    if (paging.kind === 'page') Object.assign(info, { page: paging.page, hasPrev: paging.page > 1 })
    if (paging.kind === 'cursor' && !backwards) Object.assign(info, { page: Math.max(2, paging.page), hasPrev: true })
    if (backwards) Object.assign(info, { page: more ? Math.max(2, paging.page) : 1, hasPrev: more, hasNext: true })
    const page = { rows, info }
    this.pageResults.set(resultKey, page)
    return page
  }

  private async count(account: string, changes: number, plan: Plan, cap: number, subset?: Subset): Promise<Count> {
    const key = countKey(account, changes, `${subset?.name ?? ''}/${cap}`, plan.filters)
    const kept = this.counts.get(key)
    if (kept) return kept
    const limited = this.matching(account, plan, subset).select(sql.lit(1).as('one')).limit(cap + 1)
    const row = await this.db
      .selectFrom(limited.as('matching'))
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow()
    const n = Number(row.n)
    const count = n > cap ? { total: cap, throttled: true } : { total: n, throttled: false }
    this.counts.set(key, count)
    return count
  }

  /** Whether a reference field may point at this id: the target exists in the working account. */
  async targetExists(account: string, field: Field, id: number): Promise<boolean> {
    const lookup = this.targetById.get(field.name)
    return lookup !== undefined && (await lookup(account, id)).length > 0
  }

  /** Inserts a record; a unique constraint failure becomes UniqueViolation. */
  async insert(account: string, columns: Row): Promise<number> {
    const now = nowSeconds()
    try {
      return await this.db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto(this.resource.table)
          .values({ ...columns, account_id: account, created_at: now, updated_at: now })
          .returning('id')
          .executeTakeFirstOrThrow()
        await markChanged(trx, account)
        return Number(row.id)
      })
    } catch (error) {
      if (isUniqueViolation(error)) throw new UniqueViolation()
      throw error
    }
  }

  /** Applies changed columns and bumps the version; false when the record is gone or changed. */
  async update(account: string, id: number, columns: Row, expectedVersion?: number): Promise<boolean> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        let query = trx
          .updateTable(this.resource.table)
          .set({ ...columns, updated_at: nowSeconds(), lock_version: sql`lock_version + 1` })
          .where('account_id', '=', account)
          .where('id', '=', id)
        if (expectedVersion !== undefined) query = query.where('lock_version', '=', expectedVersion)
        const result = await query.executeTakeFirst()
        if (Number(result.numUpdatedRows) === 0) return false
        await markChanged(trx, account)
        return true
      })
    } catch (error) {
      if (isUniqueViolation(error)) throw new UniqueViolation()
      throw error
    }
  }
}
