// Files in a folder (ATTACHMENT_DIR): `<dir>/<account>/<uuid>`. A put streams into a temporary
// file beside the others (`<dir>/.partial/`, same file system) and renames it into place once
// its last byte is on disk, so a crash or a failed upload never leaves half a file under a name.
import { createHash, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { access, mkdir, open, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { FileTooLarge, partialBegan, partialName, type FileStore, type StoredFile } from './files.ts'

const NAME = /^[a-z0-9-]{1,64}\/[0-9a-f-]{36}$/

export class LocalFiles implements FileStore {
  readonly kind = 'local'
  private readonly root: string

  constructor(dir: string) {
    this.root = resolve(dir)
  }

  /**
   * Whether files can be written where the folder is, or where it would be made (its first missing
   * level, in the nearest folder that exists): something is written there and removed again, and
   * nothing is left behind; the folder itself is made by the first upload.
   */
  static async probe(dir: string): Promise<void> {
    const folder = resolve(dir)
    let at = folder
    while (!(await exists(at))) at = dirname(at)
    if (at === folder) {
      const probe = join(folder, `.probe-${randomUUID()}`)
      await writeFile(probe, 'ok')
      await rm(probe)
    } else {
      const probe = join(at, `.probe-${randomUUID()}`)
      await mkdir(probe)
      await rmdir(probe)
    }
  }

  private path(name: string): string {
    // Names are made by the server; this is a second lock on the door.
    if (!NAME.test(name)) throw new Error(`not an object name: ${name}`)
    return join(this.root, name)
  }

  async put(name: string, content: Readable, maxBytes: number): Promise<StoredFile> {
    const target = this.path(name)
    const partial = join(this.root, '.partial', partialName())
    await mkdir(dirname(partial), { recursive: true })
    await mkdir(dirname(target), { recursive: true })
    const counted = measure(maxBytes)
    try {
      await pipeline(content, counted.stream, createWriteStream(partial, { flags: 'wx' }))
      // On disk before it has a name: a crash after the rename finds the whole file.
      const handle = await open(partial, 'r')
      try {
        await handle.sync()
      } finally {
        await handle.close()
      }
      await rename(partial, target)
      return counted.result()
    } catch (error) {
      await rm(partial, { force: true })
      throw error
    }
  }

  async get(name: string): Promise<Readable | undefined> {
    const path = this.path(name)
    if (!(await this.stat(name))) return undefined
    return createReadStream(path)
  }

  async stat(name: string): Promise<{ size: number } | undefined> {
    try {
      return { size: (await stat(this.path(name))).size }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
  }

  async delete(name: string): Promise<void> {
    await rm(this.path(name), { force: true })
  }

  async removeAbandoned(before: number): Promise<number> {
    const folder = join(this.root, '.partial')
    let names: string[]
    try {
      names = await readdir(folder)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0
      throw error
    }
    const abandoned = names.filter((name) => (partialBegan(name) ?? Infinity) < before)
    for (const name of abandoned) await rm(join(folder, name), { force: true })
    return abandoned.length
  }
}

const exists = (path: string) => access(path).then(() => true, () => false)

/** A pass-through that counts and hashes, and fails with FileTooLarge past `maxBytes`. */
export function measure(maxBytes: number): { stream: Transform; result(): StoredFile } {
  const hash = createHash('sha256')
  let size = 0
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length
      if (size > maxBytes) return done(new FileTooLarge(maxBytes))
      hash.update(chunk)
      done(null, chunk)
    },
  })
  return { stream, result: () => ({ size, sha256: hash.digest('hex') }) }
}
