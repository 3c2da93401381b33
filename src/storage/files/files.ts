// Where uploaded files live, behind one interface (docs/architecture.md, "Attachments"): a folder
// on local disk (the default), or chunked rows inside the database, for several server machines
// on one PostgreSQL. An S3-compatible store would be a third implementation of FileStore.
//
// Objects are named by the server (`<account>/<uuid>`), never by a client: a client's key is a
// column of `uploads`, so nothing a client sends becomes a path.
import type { Readable } from 'node:stream'
import { randomUUID } from 'node:crypto'
import { ConfigError } from '../../config.ts'
import type { Database } from '../database.ts'
import { DatabaseFiles } from './database-files.ts'
import { LocalFiles } from './local-files.ts'

export type FileStoreKind = 'local' | 'database'

export interface StoredFile {
  size: number
  /** Hex SHA-256 of the content. */
  sha256: string
}

export interface FileStore {
  readonly kind: FileStoreKind
  /**
   * Streams `content` into the object `name`, all or nothing: a reader never sees part of a file,
   * and a failed or aborted put leaves nothing behind. `maxBytes`: past it the put fails with
   * FileTooLarge as soon as the byte arrives (nothing more is read or kept).
   */
  put(name: string, content: Readable, maxBytes: number): Promise<StoredFile>
  /** The object's content as a stream, or undefined when there is none. */
  get(name: string): Promise<Readable | undefined>
  /** The object's size, or undefined when there is none. */
  stat(name: string): Promise<{ size: number } | undefined>
  /** Removes the object; nothing when there is none. */
  delete(name: string): Promise<void>
  /**
   * Removes what puts left behind when their process died in the middle (a put that fails
   * removes its own), begun before `before` (epoch seconds); answers how many.
   */
  removeAbandoned(before: number): Promise<number>
}

/** The name a put writes under until it is whole: when it began, so that what a dead process left can be told. */
export const partialName = () => `${Math.floor(Date.now() / 1000)}-${randomUUID()}`
/** When the put that wrote this partial name began (epoch seconds), or undefined for another name. */
export function partialBegan(name: string): number | undefined {
  const match = /^(\d{1,12})-[0-9a-f-]{36}$/.exec(name)
  return match ? Number(match[1]) : undefined
}

/** A put that went past its limit. */
export class FileTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`the file is larger than ${maxBytes} bytes`)
    this.name = 'FileTooLarge'
  }
}

/** Both stores, so an upload is read from the one it was written to whichever takes new ones. */
export interface FileStores {
  /** Where new uploads go (ATTACHMENT_STORAGE). */
  current: FileStore
  of(kind: string): FileStore
}

/**
 * At start: the store for new uploads can take them. For `local`, something is written and removed
 * where the folder is or would be made (LocalFiles.probe); a ConfigError names ATTACHMENT_DIR
 * otherwise, so a wrong folder stops the server at start instead of failing the first upload.
 */
export async function checkFileStore(options: { storage: FileStoreKind; dir: string }): Promise<void> {
  if (options.storage !== 'local') return
  try {
    await LocalFiles.probe(options.dir)
  } catch (error) {
    const e = error as NodeJS.ErrnoException
    throw new ConfigError('ATTACHMENT_DIR', `cannot write files in ${options.dir} (${e.code ?? e.message})`)
  }
}

export function openFileStores(database: Database, options: { storage: FileStoreKind; dir: string }): FileStores {
  let local: LocalFiles | undefined
  let inDatabase: DatabaseFiles | undefined
  const of = (kind: string): FileStore => {
    if (kind === 'local') return (local ??= new LocalFiles(options.dir))
    if (kind === 'database') return (inDatabase ??= new DatabaseFiles(database))
    throw new Error(`unknown file store ${kind}`)
  }
  return { current: of(options.storage), of }
}
