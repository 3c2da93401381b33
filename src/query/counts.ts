// Collection counts, reused while an account's records are unchanged. A count is keyed by the
// account's change counter (stored in the database and moved by every write, so several server
// processes agree on when a count is stale), the subset (plain collection or predefined filter)
// and the filters. Cursors and pages do not take part: walking a collection counts once.
import type { Filter } from './parse.ts'
import type { Count } from './links.ts'

const MAX_ENTRIES = 10_000

export function countKey(account: string, changes: number, subset: string, filters: Filter[]): string {
  return JSON.stringify([account, changes, subset, filters.map((f) => [f.field.name, f.condition])])
}

/** A bounded map that forgets the least recently used count first. */
export class CountCache {
  private readonly entries = new Map<string, Count>()

  get(key: string): Count | undefined {
    const hit = this.entries.get(key)
    if (hit) {
      this.entries.delete(key)
      this.entries.set(key, hit)
    }
    return hit
  }

  set(key: string, count: Count): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!)
    this.entries.set(key, count)
  }
}
