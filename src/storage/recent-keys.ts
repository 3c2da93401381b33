// A bounded memory of the keys seen recently, for the layers that act only on what comes twice:
// results kept only for a URL asked again (records/reuse.ts), statements prepared on PostgreSQL
// only once their text runs again (storage/database.ts).

/**
 * The keys seen recently, as 32-bit hashes in two generations of at most `capacity` each, so it
 * holds a few megabytes whatever the keys' length. A collision only makes a first sighting
 * count as a second one.
 */
export class RecentKeys {
  private current = new Set<number>()
  private previous = new Set<number>()

  constructor(readonly capacity: number) {}

  /** Whether the key was seen recently; from now on it was. */
  remember(key: string): boolean {
    const hash = fnv1a(key)
    if (this.current.has(hash)) return true
    if (this.current.size >= this.capacity) {
      this.previous = this.current
      this.current = new Set()
    }
    this.current.add(hash)
    return this.previous.has(hash)
  }
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193)
  return hash >>> 0
}
