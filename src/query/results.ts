// Collection results reused while an account's records are unchanged. A result is keyed by the
// account's change counter, which is stored in the database and moved by every write of the
// account's records in the write's own transaction: every server process sharing the database
// sees a kept result go stale at the same moment, and a list costs one read of the counter.
// Counts leave cursors and pages out of their key, so walking a collection counts once; a page
// is keyed by its whole plan, which its query string stands for.
import type { Filter } from './parse.ts'

export function countKey(account: string, changes: number, subset: string, filters: Filter[]): string {
  return JSON.stringify([account, changes, subset, filters.map((f) => [f.field.name, f.condition])])
}

/** A plan is known by its query string (Plan.source), which is cheaper than its shape and values. */
export function pageKey(account: string, changes: number, subset: string, source: string): string {
  return `${account}\n${changes}\n${subset}\n${source}`
}

/** A bounded map that forgets the least recently used entry first. */
export class ResultCache<T> {
  private readonly entries = new Map<string, T>()

  constructor(private readonly capacity: number) {}

  get(key: string): T | undefined {
    const hit = this.entries.get(key)
    if (hit !== undefined) {
      this.entries.delete(key)
      this.entries.set(key, hit)
    }
    return hit
  }

  set(key: string, value: T): void {
    if (this.capacity <= 0) return
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!)
    this.entries.set(key, value)
  }
}
