// Collection answers reused while nothing they were read from has changed: the one layer that
// keeps results between requests, in front of the store (records/store.ts keeps nothing).
//
// A kept answer is checked on every request against the collection's watermark: the largest
// change_seq among the rows the account reads (its records and their references' targets). The
// database moves change_seq on every insert and update of a row, whoever writes it (triggers,
// migration 004), so a write by another process, the CLI or psql makes the next read recompute.
// There is no row that every write of an account updates. On PostgreSQL an answer computed while
// any write transaction was in flight is not kept (Watermark.settled), since that transaction may
// still commit a smaller change_seq than the one read.
//
// An answer is kept only when its URL comes a second time while still remembered (RecentKeys):
// most URLs of real traffic (a walk's pages, filters with varying values) come once, and for
// them probing the watermark and keeping the answer is pure cost.
//
// What is kept is bounded in bytes, not entries, and an answer larger than a sixteenth of the
// budget is never kept: no sequence of allowed requests can pin more than the budget.
import { createHash } from 'node:crypto'
import { ROW_BASE_URL } from '../catalogue/resource.ts'
import type { Plan } from '../query/parse.ts'
import type { Count, PageInfo } from '../query/paging.ts'
import { RecentKeys } from '../storage/recent-keys.ts'
import type { Presenter } from './present.ts'
import type { Page, RecordStore, Subset, Watermark } from './store.ts'

export interface CollectionAnswer {
  body: string
  info: PageInfo
  count: Count
  /** The body's ETag, once an answer has been tagged: a kept answer is hashed once. */
  etag?: string
  /** The Link header made last, and the URL it was made for (the same URL gets the same one). */
  link?: { url: string; value: string | undefined }
}

interface Kept<T> {
  mark: string
  value: T
  bytes: number
}

/** A map that forgets the least recently used entries first once it holds more than `capacity` bytes. */
export class ByteBoundedCache<T> {
  private readonly entries = new Map<string, Kept<T>>()
  private held = 0

  constructor(readonly capacity: number) {}

  get bytes(): number {
    return this.held
  }

  get size(): number {
    return this.entries.size
  }

  has(key: string): boolean {
    return this.entries.has(key)
  }

  /** The value kept under this key at this mark. */
  get(key: string, mark: string): T | undefined {
    const hit = this.entries.get(key)
    if (!hit) return undefined
    this.entries.delete(key)
    if (hit.mark !== mark) {
      this.held -= hit.bytes
      return undefined
    }
    this.entries.set(key, hit)
    return hit.value
  }

  set(key: string, mark: string, value: T, bytes: number): void {
    bytes += key.length * 2 + 64
    if (bytes > this.capacity / 16) return
    const old = this.entries.get(key)
    if (old) {
      this.entries.delete(key)
      this.held -= old.bytes
    }
    while (this.held + bytes > this.capacity) {
      const [oldest, entry] = this.entries.entries().next().value!
      this.entries.delete(oldest)
      this.held -= entry.bytes
    }
    this.entries.set(key, { mark, value, bytes })
    this.held += bytes
  }
}

/** How many keys RecentKeys remembers per resource and generation. */
const RECENT_KEYS = 65_536

export class CollectionReader {
  private readonly pages: ByteBoundedCache<CollectionAnswer>
  private readonly counts: ByteBoundedCache<Count>
  private readonly recent = new RecentKeys(RECENT_KEYS)
  /** Whether an account's own collection held at most the cap, and until when that is taken as known. */
  private readonly sizes = new Map<string, { fits: boolean; until: number }>()

  constructor(
    private readonly store: RecordStore,
    private readonly presenter: Presenter,
    private readonly options: { countCap: number; keptBytes: number; keepAfter?: number },
  ) {
    // Counts are small and dear (a count of 100,000 rows against a page of 20): a tenth of the budget.
    this.counts = new ByteBoundedCache(Math.floor(options.keptBytes / 10))
    this.pages = new ByteBoundedCache(options.keptBytes - this.counts.capacity)
  }

  /**
   * The page the plan asks for, rendered, and the count of what matches. `base`: the base of the
   * absolute URLs its records render (attachments' download URIs), part of what a kept answer is kept under.
   */
  async read(account: string, plan: Plan, subset?: Subset, base = ''): Promise<CollectionAnswer> {
    if (this.options.keptBytes <= 0) return this.compute(account, plan, subset, undefined, base)
    // The same query string always makes the same plan.
    const key = `${account}\n${subset?.name ?? ''}\n${plan.source}\n${base}`
    // A URL asked for the first time (as far as we remember) is read and not kept, unless every
    // answer is to be kept (RESULT_CACHE_AFTER=1).
    if ((this.options.keepAfter ?? 2) > 1 && !this.recent.remember(key) && !this.pages.has(key)) return this.compute(account, plan, subset, undefined, base)
    const mark = await this.store.watermark(account, subset?.shared)
    const kept = this.pages.get(key, mark.value)
    if (kept) return kept
    const answer = await this.compute(account, plan, subset, mark, base)
    if (mark.settled) this.pages.set(key, mark.value, answer, answer.body.length * 2 + 256)
    return answer
  }

  private async compute(account: string, plan: Plan, subset?: Subset, mark?: Watermark, base = ''): Promise<CollectionAnswer> {
    const page = await this.store.page(account, plan, subset)
    const count = await this.count(account, plan, page, subset, mark)
    for (const row of page.rows) row[ROW_BASE_URL] = base
    return { body: this.presenter.page(page.rows, plan.fields), info: page.info, count }
  }

  /**
   * Counts the plan's filters: without the cap when the account's own collection is known to
   * hold at most the cap rows (RecordStore.count: a plain count is ~1.8x faster on SQLite). The
   * size is known from a capped count of the whole collection, made at most once a minute per
   * account (or by a request that counts the whole collection anyway); a collection that grows
   * past the cap within that minute is counted exactly for the rest of it, which costs more but
   * answers the same. Collections with other accounts' rows are always counted with the cap.
   */
  private async countFilters(account: string, plan: Plan, subset?: Subset): Promise<Count> {
    const cap = this.options.countCap
    if (subset?.shared) return this.store.count(account, plan, cap, subset)
    const now = Date.now()
    let size = this.sizes.get(account)
    if (!size || size.until <= now) {
      const whole = await this.store.count(account, { ...plan, filters: [] }, cap)
      if (this.sizes.size >= SIZES) this.sizes.clear()
      this.sizes.set(account, (size = { fits: !whole.throttled, until: now + SIZE_SECONDS * 1000 }))
      if (plan.filters.length === 0 && !subset) return whole
    }
    return this.store.count(account, plan, cap, subset, !size.fits)
  }

  /**
   * A walk by cursor carries the count of its first page, for the same account, collection and
   * filters (its scope); a page by number that ends the collection tells the count by itself
   * (most selective filters fit on their first page); otherwise the filters are counted, once
   * per watermark. Counts leave pages and sort out of their key.
   */
  private async count(account: string, plan: Plan, page: Page, subset?: Subset, mark?: Watermark): Promise<Count> {
    const key = JSON.stringify([account, this.store.resource.name, subset?.name ?? '', plan.filters.map((f) => [f.field.name, f.condition])])
    const scope = createHash('sha256').update(key).digest('base64url').slice(0, 16)
    if (plan.paging.kind === 'cursor' && plan.paging.count?.scope === scope) return plan.paging.count
    const cap = this.options.countCap
    const ended = endingTotal(plan, page)
    if (ended !== undefined) return ended > cap ? { total: cap, throttled: true, scope } : { total: ended, throttled: false, scope }
    const counted = async () => ({ ...(await this.countFilters(account, plan, subset)), scope })
    if (!mark) return counted()
    const kept = this.counts.get(key, mark.value)
    if (kept) return kept
    const count = await counted()
    if (mark.settled) this.counts.set(key, mark.value, count, 96)
    return count
  }
}

/** How long a collection's size is taken as known (countFilters). */
const SIZE_SECONDS = 60
/** Collections whose size is remembered, per resource. */
const SIZES = 10_000

/**
 * The number of matching records when the page read by number is the last and not empty (or the
 * first, empty or not): the pages before it are full. Undefined when it cannot tell.
 */
export function endingTotal(plan: Plan, page: Page): number | undefined {
  if (page.info.hasNext) return undefined
  const paging = plan.paging
  if (paging.kind === 'first') return page.rows.length
  if (paging.kind === 'page' && (page.rows.length > 0 || paging.page === 1)) return (paging.page - 1) * plan.perPage + page.rows.length
  return undefined
}
