// Reads of a resource's records, driven by its catalogue: plan -> SQL -> rows. Every statement is
// scoped by account, names only catalogue columns and binds every value. Nothing is kept here
// between requests: reuse is records/reuse.ts, in front of this.
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely'
import { OWNER_NAME, referenceColumns, type Field, type Resource, type Row } from '../catalogue/resource.ts'
import { filtersExpression, keysetExpression, orderKeys } from '../query/compile.ts'
import { pageInfo, type Count, type PageInfo } from '../query/paging.ts'
import type { Plan } from '../query/parse.ts'
import { planShape } from '../query/shape.ts'
import type { Database } from '../storage/database.ts'
import { Placeholder, prepared, run, shape, type Shaped } from '../storage/prepared.ts'
import type { RecordLinks } from './rules.ts'
import { visibleRows, watermarkAccounts, type Sharing } from './sharing.ts'

export type Scope = (eb: ExpressionBuilder<any, any>) => Expression<SqlBool>

/** A predefined filter: its path segment and the condition it adds. */
export interface Subset {
  name: string
  where?: Scope
  /** It reads what other accounts share with the working account too, under this sharing (records/sharing.ts). */
  shared?: Sharing
  /** Only what is shared, none of the account's own rows. */
  only?: boolean
}

/** A page's rows (the columns its fields and sort need, references attached) and where it stands. */
export interface Page {
  readonly rows: readonly Row[]
  readonly info: PageInfo
}

/**
 * Where an account's view of a collection stands: the largest change_seq among the rows it reads
 * (its own records and their references' targets). `settled` is false while a write may still
 * commit a smaller one (PostgreSQL only): nothing computed then may be kept under this mark.
 */
export interface Watermark {
  value: string
  settled: boolean
}

/** What a reference renders of its target: its id, name and, when it has one, its sourceID. */
const targetColumns = (target: Resource) => (target.field('sourceID')?.column === 'source_id' ? ['id', 'name', 'source_id'] : ['id', 'name'])
const MAX_SHAPES = 1000

/**
 * The dynamic edge of the query layer: a resource's table is named by its catalogue, so its rows
 * are typed by the catalogue (Row), not by a static Kysely schema.
 */
export type RecordQueries = Kysely<Record<string, Row>>

export class RecordStore {
  readonly db: RecordQueries
  /** Every column a record answer renders, and its version. */
  private readonly columns: string[]
  private readonly byId: (account: string, id: number) => Promise<Row[]>
  /** A record the account owns or that is shared with it (records/sharing.ts). */
  private readonly visibleById: ((account: string, id: number) => Promise<Row[]>) | undefined
  private readonly marks: (account: string) => Promise<Row[]>
  private readonly flagColumns: string[]
  /** The watermarks of shared collections, by sharing (records/sharing.ts). */
  private readonly sharedMarks = new Map<string, (account: string) => Promise<Row[]>>()
  /** Compiled page and count statements by plan shape (see query/shape.ts). */
  private readonly pages = new Map<string, Shaped<Row>>()
  private readonly counts = new Map<string, Shaped<Row>>()
  /** One target by id, per reference field. */
  private readonly targetById = new Map<string, (account: string, id: number) => Promise<Row[]>>()

  constructor(
    readonly database: Database,
    readonly resource: Resource,
    /** Who besides the owner may read a record by id, if anyone (records/sharing.ts). */
    readonly sharing?: Sharing,
    /** Whose name rows carry (OWNER_NAME): only other accounts' rows, or every row. */
    private readonly ownerNames: 'others' | 'all' = 'others',
    /** Rows of another table read with a record (its attachments), for the fields that render them. */
    readonly links?: RecordLinks,
  ) {
    this.db = database.db as unknown as RecordQueries
    this.columns = [...resource.columns, 'lock_version']
    this.flagColumns = resource.field('disabled')?.column ? [resource.field('disabled')!.column!] : []
    this.byId = prepared(database, 2, (account, id) => this.withTargets(this.db.selectFrom(`${resource.table} as r`).select(this.columns.map((c) => `r.${c}`)).where('r.account_id', '=', account).where('r.id', '=', id)))
    this.visibleById = sharing
      ? prepared(database, 2, (account, id) =>
          this.withTargets(this.db.selectFrom(`${resource.table} as r`).select([...new Set([...this.columns, 'account_id'])].map((c) => `r.${c}`)).where((eb) => visibleRows(eb, account, sharing, 'r')).where('r.id', '=', id)),
        )
      : undefined
    this.marks = prepared(database, 1, (account) => this.watermarkQuery(account))
    for (const field of resource.references) {
      const table = field.type.target!()!.table
      this.targetById.set(field.name, prepared(database, 2, (account, id) => this.db.selectFrom(table).select(targetColumns(field.type.target!()!)).where('account_id', '=', account).where('id', '=', id)))
    }
  }

  /**
   * Adds the name and sourceID of each reference's target to a query of `r`, by correlated
   * subqueries scoped to the account: SQLite runs a join of the same primary-key lookups about
   * three times slower (measured: ~11 µs against ~3.5 µs).
   */
  private withTargets<Q extends { select: any }>(query: Q): Q {
    let q: any = query
    for (const field of this.resource.references) {
      const table = field.type.target!()!.table
      const columns = referenceColumns(field)
      const target = (column: string) =>
        this.db.selectFrom(`${table} as t`).select(`t.${column}`).whereRef('t.account_id', '=', `r.${field.targetOwner ?? 'account_id'}`).whereRef('t.id', '=', `r.${field.column}`)
      const hasSource = targetColumns(field.type.target!()!).includes('source_id')
      q = q.select([target('name').as(columns.name), ...(hasSource ? [target('source_id').as(columns.sourceId)] : []), ...(field.targetColumns ?? []).map((c) => target(c).as(`${field.name}__${c}`))])
    }
    return q
  }

  /**
   * The largest change_seq of the account's rows in this table and in its references' tables;
   * with a sharing, of the rows of every account it may show, and of the rows that decide what
   * the account sees (records/sharing.ts).
   */
  private watermarkQuery(account: unknown, sharing?: Sharing) {
    const tables = [this.resource.table, ...new Set(this.resource.references.map((f) => f.type.target!()!.table))]
    const whose = (eb: ExpressionBuilder<any, any>) => (sharing ? watermarkAccounts(eb, account, sharing) : eb('account_id', '=', account))
    const marks = tables.map((table) => this.db.selectFrom(table).select((eb) => eb.fn.coalesce(eb.fn.max('change_seq'), sql.lit(0)).as('m')).where(whose))
    for (const decider of sharing?.deciders ?? []) {
      marks.push(this.db.selectFrom(decider.table).select((eb) => eb.fn.coalesce(eb.fn.max('change_seq'), sql.lit(0)).as('m')).where(decider.column, '=', account))
    }
    let query = this.db.selectNoFrom(marks.map((m, i) => m.as(`m${i}`)) as any)
    if (this.database.engine === 'postgres') {
      // No transaction in flight anywhere: every change_seq handed out so far is committed (or
      // gone), so a later write can only bring a larger one (records/reuse.ts).
      query = query.select(sql<boolean>`pg_snapshot_xmin(pg_current_snapshot()) = pg_snapshot_xmax(pg_current_snapshot())`.as('settled')) as any
    }
    return query
  }

  async watermark(account: string, sharing?: Sharing): Promise<Watermark> {
    let marks = this.marks
    if (sharing) {
      marks = this.sharedMarks.get(sharing.name)!
      if (!marks) this.sharedMarks.set(sharing.name, (marks = prepared(this.database, 1, (placeholder) => this.watermarkQuery(placeholder, sharing))))
    }
    const [row] = await marks(account)
    let value = ''
    for (const key in row) if (key !== 'settled') value += `${row[key]}.`
    return { value, settled: row.settled !== false }
  }

  /** The record with every column and its references' targets, or undefined. */
  async find(account: string, id: number): Promise<Row | undefined> {
    const row = (await this.byId(account, id))[0]
    if (row && this.ownerNames === 'all') await this.attachOwners(account, [row])
    if (row) await this.links?.load(this.db, [row], this.database)
    return row
  }

  /**
   * The record as `find` gives it, or one another account shares with this one (with its
   * owner's name): what reading one record by id may show. Writes use `find`: only the owner
   * changes a record.
   */
  async findVisible(account: string, id: number): Promise<Row | undefined> {
    if (!this.visibleById) return this.find(account, id)
    const row = (await this.visibleById(account, id))[0]
    if (row) await this.attachOwners(account, [row])
    if (row) await this.links?.load(this.db, [row], this.database)
    return row
  }

  /** A reference's target with every column, when it is the account's or shared with it under this sharing. */
  async visibleTarget(account: string, field: Field, id: number, sharing: Sharing, db: RecordQueries = this.db): Promise<Row | undefined> {
    return db.selectFrom(field.type.target!()!.table).selectAll().where((eb) => visibleRows(eb, account, sharing)).where('id', '=', id).executeTakeFirst()
  }

  /** Whether a reference field may point at this id: the target exists in the working account. */
  async targetExists(account: string, field: Field, id: number): Promise<boolean> {
    const lookup = this.targetById.get(field.name)
    return lookup !== undefined && (await lookup(account, id)).length > 0
  }

  /**
   * Adds each reference's target name and sourceID to the rows (see referenceColumns): one query
   * per reference field for the whole page.
   */
  async attachReferences(account: string, rows: Row[], fields: Field[], db: RecordQueries = this.db): Promise<void> {
    for (const field of fields) {
      if (!this.targetById.has(field.name)) continue
      // A row another account shares points at targets of that account, and a reference may name
      // the account of its target (records/sharing.ts).
      const ownerOf = (row: Row) => (row[field.targetOwner ?? 'account_id'] === undefined ? account : String(row[field.targetOwner ?? 'account_id']))
      const owners = [...new Set(rows.map(ownerOf))]
      const own = owners.length === 1 && owners[0] === account && !field.targetColumns
      const ids = [...new Set(rows.map((row) => row[field.column!]).filter((id) => id != null).map(Number))]
      if (ids.length === 0) continue
      const targets =
        own && ids.length === 1 && db === this.db
          ? await this.targetById.get(field.name)!(account, ids[0])
          : await db.selectFrom(field.type.target!()!.table).select([...targetColumns(field.type.target!()!), 'account_id', ...(field.targetColumns ?? [])]).where('account_id', 'in', owners).where('id', 'in', ids).execute()
      const byId = new Map(targets.map((target) => [`${target.account_id ?? account}:${Number(target.id)}`, target]))
      const columns = referenceColumns(field)
      for (const row of rows) {
        const target = byId.get(`${ownerOf(row)}:${Number(row[field.column!])}`)
        row[columns.name] = target?.name ?? null
        row[columns.sourceId] = target?.source_id ?? null
        for (const c of field.targetColumns ?? []) row[`${field.name}__${c}`] = target?.[c] ?? null
      }
    }
  }

  private matching(account: string, plan: Plan, subset?: Subset) {
    const sharing = subset?.shared
    return this.db
      .selectFrom(this.resource.table)
      .where((eb) => (!sharing ? eb('account_id', '=', account) : subset?.only ? sharing.readers(eb, account) : visibleRows(eb, account, sharing)))
      .where((eb) => eb.and([...(subset?.where ? [subset.where(eb)] : []), filtersExpression(eb, plan.filters)]))
  }

  /** The statement of a page: `account`, the plan's values, limit and offset may be placeholders. */
  private pageQuery(account: unknown, plan: Plan, subset: Subset | undefined, limit: unknown, offset: unknown) {
    const paging = plan.paging
    const keys = orderKeys(plan.sort, paging.kind === 'cursor' && paging.direction === 'before')
    // The sort keys (for cursors), the version, what the page's fields need, and `disabled`,
    // which a disabled record shows in any collection (records/present.ts). A shared collection
    // reads each row's owner, whose targets it renders (attachReferences).
    const owner = subset?.shared ? ['account_id', ...this.resource.references.map((f) => f.targetOwner ?? 'account_id')] : []
    const columns = [...new Set(['id', 'lock_version', ...owner, ...plan.sort.map((key) => key.field.column!), ...this.resource.columnsFor(plan.fields), ...this.flagColumns])]
    let query = this.matching(account as string, plan, subset).select(columns)
    if (paging.kind === 'cursor') query = query.where((eb) => keysetExpression(eb, keys, paging.boundary))
    for (const key of keys) query = query.orderBy(key.column, key.direction)
    query = query.limit(limit as number)
    if (offset !== undefined) query = query.offset(offset as number)
    return query
  }

  /** One page of the plan, its statement compiled once per plan shape. */
  async page(account: string, plan: Plan, subset?: Subset): Promise<Page> {
    const paging = plan.paging
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
    if (paging.kind === 'cursor' && paging.direction === 'before') rows.reverse()
    await this.attachReferences(account, rows, plan.fields)
    if (subset?.shared || this.ownerNames === 'all') await this.attachOwners(account, rows)
    if (this.links && plan.fields.some((field) => this.links!.renders.has(field.name))) await this.links.load(this.db, rows)
    return { rows, info: pageInfo(plan, rows, more) }
  }

  /** The name of each row's owner, on the rows of other accounts (OWNER_NAME; records/sharing.ts). */
  async attachOwners(account: string, rows: Row[], db: RecordQueries = this.db): Promise<void> {
    const all = this.ownerNames === 'all'
    const owners = [...new Set(rows.map((row) => String(row.account_id ?? account)).filter((owner) => all || owner !== account))]
    if (owners.length === 0) return
    const names = new Map((await db.selectFrom('accounts').select(['id', 'name']).where('id', 'in', owners).execute()).map((a) => [a.id, a.name]))
    for (const row of rows) if (all || row.account_id !== account) row[OWNER_NAME] = names.get(String(row.account_id ?? account)) ?? null
  }

  /**
   * The number of records matching the plan's filters, exact up to `cap`; the statement is
   * compiled once per shape of the filters, as a page's is (Kysely took ~20x the time SQLite
   * took to count a selective filter). `bounded: false` counts without the cap, which the caller
   * may ask when it knows the collection holds at most about `cap` rows: SQLite counts through
   * the capped subquery one row at a time, in ~1.8x the time of a plain count (50,000 rows:
   * 4.4 against 2.4 ms).
   */
  async count(account: string, plan: Plan, cap: number, subset?: Subset, bounded = true): Promise<Count> {
    const { key, marked, values } = planShape({ ...plan, fields: [], sort: [], paging: { kind: 'first' } }, [account])
    const limit = bounded ? new Placeholder(values.push(cap + 1) - 1) : undefined
    const shapeKey = `${subset?.name ?? ''}:${bounded}:${key}`
    let statement = this.counts.get(shapeKey)
    if (!statement) {
      const matching = this.matching(new Placeholder(0) as unknown as string, marked, subset)
      statement = shape(
        limit
          ? this.db.selectFrom(matching.select(sql.lit(1).as('one')).limit(limit as unknown as number).as('matching')).select((eb) => eb.fn.countAll().as('n'))
          : matching.select((eb) => eb.fn.countAll().as('n')),
        values.length,
      )
      if (this.counts.size >= MAX_SHAPES) this.counts.clear()
      this.counts.set(shapeKey, statement)
    }
    const [row] = await run(this.database, statement, values)
    const n = Number(row.n)
    return n > cap ? { total: cap, throttled: true } : { total: n, throttled: false }
  }
}
