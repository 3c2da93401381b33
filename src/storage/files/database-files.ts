// Files as chunked rows of the database (`file_chunks`, migration 007), for several server
// machines sharing one PostgreSQL. A put writes its chunks under a temporary object name, one
// statement per chunk (a file is never held whole in memory), then renames them to the real name
// in one statement: readers see all of a file or none of it. A get reads one chunk at a time, as
// its reader asks for them.
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { sql, type Kysely } from 'kysely'
import type { Database } from '../database.ts'
import { measure } from './local-files.ts'
import { partialBegan, partialName, type FileStore, type StoredFile } from './files.ts'

/**
 * Bytes per row. pg sends a bytea as hex text: a chunk of 48 KiB is a 96 KiB string, small enough
 * for V8's young generation, which is collected at once (256 KiB chunks made 512 KiB strings that
 * waited for a full collection: a 50 MB upload grew the process twice as much).
 */
export const CHUNK_BYTES = 48 * 1024
const TABLE = 'file_chunks'
const PARTIAL = '.partial/'

export class DatabaseFiles implements FileStore {
  readonly kind = 'database'
  private readonly db: Kysely<any>

  constructor(private readonly database: Database) {
    this.db = database.db as unknown as Kysely<any>
  }

  async put(name: string, content: Readable, maxBytes: number): Promise<StoredFile> {
    const partial = `${PARTIAL}${partialName()}`
    const counted = measure(maxBytes)
    let pending: Buffer[] = []
    let pendingBytes = 0
    let seq = 0
    const flush = async (all: boolean) => {
      while (pendingBytes >= CHUNK_BYTES || (all && pendingBytes > 0)) {
        const joined = Buffer.concat(pending)
        const data = joined.subarray(0, CHUNK_BYTES)
        const rest = joined.subarray(data.length)
        pending = rest.length > 0 ? [rest] : []
        pendingBytes = rest.length
        await this.db.insertInto(TABLE).values({ object: partial, seq: seq++, data }).execute()
      }
    }
    // The INSERT under way, if any: a failed put waits for it before removing what it wrote, or
    // a chunk committed after the DELETE would stay behind.
    let writing: Promise<void> = Promise.resolve()
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        pending.push(chunk)
        pendingBytes += chunk.length
        writing = flush(false)
        writing.then(() => done(), done)
      },
      final(done) {
        writing = flush(true)
        writing.then(() => done(), done)
      },
    })
    try {
      await pipeline(content, counted.stream, sink)
      await this.db.updateTable(TABLE).set({ object: name }).where('object', '=', partial).execute()
      return counted.result()
    } catch (error) {
      await writing.catch(() => {})
      await this.db.deleteFrom(TABLE).where('object', '=', partial).execute().catch(() => {})
      throw error
    }
  }

  async get(name: string): Promise<Readable | undefined> {
    const first = await this.chunk(name, 0)
    if (first === undefined) return undefined
    let seq = 0
    const next = (): Promise<Buffer | undefined> => (seq++ === 0 ? Promise.resolve(first) : this.chunk(name, seq - 1))
    const stream: Readable = new Readable({
      read() {
        next().then(
          (data) => stream.push(data ?? null),
          (error: Error) => stream.destroy(error),
        )
      },
    })
    return stream
  }

  private async chunk(name: string, seq: number): Promise<Buffer | undefined> {
    const row = await this.db.selectFrom(TABLE).select('data').where('object', '=', name).where('seq', '=', seq).executeTakeFirst()
    return row ? Buffer.from(row.data as Uint8Array) : undefined
  }

  async stat(name: string): Promise<{ size: number } | undefined> {
    const length = this.database.engine === 'postgres' ? sql`octet_length(data)` : sql`length(data)`
    const row = await this.db
      .selectFrom(TABLE)
      .select((eb) => [eb.fn.countAll().as('n'), eb.fn.sum(length).as('size')])
      .where('object', '=', name)
      .executeTakeFirst()
    return row && Number(row.n) > 0 ? { size: Number(row.size) } : undefined
  }

  async delete(name: string): Promise<void> {
    await this.db.deleteFrom(TABLE).where('object', '=', name).execute()
  }

  async removeAbandoned(before: number): Promise<number> {
    // A partial object's rows are few and short-lived: the names are read, their times judged here.
    const partials = await this.db.selectFrom(TABLE).select('object').distinct().where('object', 'like', `${PARTIAL}%`).execute()
    const abandoned = partials.map((row) => String(row.object)).filter((object) => (partialBegan(object.slice(PARTIAL.length)) ?? Infinity) < before)
    if (abandoned.length > 0) await this.db.deleteFrom(TABLE).where('object', 'in', abandoned).execute()
    return abandoned.length
  }
}
