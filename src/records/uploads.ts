// Uploads (attachments.md, steps 1 and 2): where to upload, the signed form fields, and taking a
// file in. A client asks for storage and gets a key prefix of its own account
// (`attachments/<account>/<random>/`), an expiry and an HMAC (SECRET_KEY) over the three; an
// upload must send them back, and is refused when the key leaves the prefix, the signature is not
// the server's for this account, or the time is up. The file streams into the FileStore (never
// held whole in memory) and becomes a row of `uploads`; a record then refers to it by key
// (records/attachments.ts). Uploads no record refers to are swept after a day.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import type { Readable } from 'node:stream'
import type { Kysely, Selectable } from 'kysely'
import { formatDatetime, parseDatetime } from '../catalogue/types.ts'
import { Errors, type FieldError } from '../errors.ts'
import { isUniqueViolation, nowSeconds, type Database } from '../storage/database.ts'
import { FileTooLarge, type FileStores } from '../storage/files/files.ts'
import type { UploadsTable } from '../storage/schema.ts'

export const FILENAME_TEMPLATE = '${filename}'
/** How long a storage answer may be used to upload. */
export const UPLOAD_WINDOW_SECONDS = 3600
/** Uploads no record refers to are deleted after this long (attachments.md). */
export const UNREFERENCED_SECONDS = 24 * 3600
const KEY = /^attachments\/([a-z][a-z0-9-]{1,31})\/([0-9a-f]{32})\/(.+)$/
const MAX_NAME_BYTES = 255

export interface StorageAnswer {
  provider: 'local'
  upload_uri: string
  size_limit: number
  allowed_extensions: string[]
  local: { key: string; 'x-4me-expiration': string; 'x-4me-signature': string }
}

/** The form fields of an upload that must come before its file. */
export interface UploadForm {
  key?: string
  expiration?: string
  signature?: string
}

/** An upload's form, checked: where the file goes once its name is known. */
export interface Admitted {
  account: string
  prefix: string
  /** The rest of the key: `${filename}`, or a name the client filled in. */
  name: string
}

/** An upload as the routes see it: its row, without who claimed it and when it came. */
export type UploadRow = Omit<Selectable<UploadsTable>, 'claimed_by' | 'created_at'>

const invalid = (...errors: FieldError[]) => Errors.validationFailed(errors)

export class Uploads {
  private readonly db: Kysely<any>

  constructor(
    database: Database,
    readonly files: FileStores,
    private readonly secretKey: string,
    readonly options: { sizeLimit: number; extensions: string[] },
  ) {
    this.db = database.db as unknown as Kysely<any>
  }

  /** Step 1: a prefix of the account's own, signed until an hour from now. */
  storage(account: string, uploadUri: string, now = nowSeconds()): StorageAnswer {
    const prefix = `attachments/${account}/${randomBytes(16).toString('hex')}/`
    const expiration = formatDatetime(now + UPLOAD_WINDOW_SECONDS)
    return {
      provider: 'local',
      upload_uri: uploadUri,
      size_limit: this.options.sizeLimit,
      allowed_extensions: this.options.extensions,
      local: { key: `${prefix}${FILENAME_TEMPLATE}`, 'x-4me-expiration': expiration, 'x-4me-signature': this.sign(account, prefix, expiration) },
    }
  }

  private sign(account: string, prefix: string, expiration: string): string {
    return createHmac('sha256', this.secretKey).update(`attachments upload\n${account}\n${prefix}\n${expiration}`).digest('base64url')
  }

  /** Step 2, before the file: the key is under a prefix this server signed for this account, in time. */
  admit(account: string, form: UploadForm, now = nowSeconds()): Admitted {
    if (!form.key) throw invalid(['key', "can't be blank"])
    const match = KEY.exec(form.key)
    // Another account's prefix is refused like any key outside the one given.
    if (!match || match[1] !== account) throw invalid(['key', 'is invalid'])
    const prefix = form.key.slice(0, form.key.length - match[3].length)
    if (!form.expiration) throw invalid(['x-4me-expiration', "can't be blank"])
    const expires = parseDatetime(form.expiration)
    if (expires === undefined) throw invalid(['x-4me-expiration', 'is invalid'])
    const expected = Buffer.from(this.sign(account, prefix, form.expiration))
    const given = Buffer.from(form.signature ?? '')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid(['x-4me-signature', 'is invalid'])
    // After the signature: an expiry is only worth judging once it is known to be ours.
    if (expires < now) throw invalid(['x-4me-expiration', 'has expired'])
    return { account, prefix, name: match[3] }
  }

  /**
   * Streams the file into the current FileStore and records it. `filename` is the file part's
   * name, which replaces `${filename}` (as S3 does; the Ruby SDK sends a full path: its last
   * segment counts). Answers the key, or a 422 with nothing kept.
   */
  async accept(admitted: Admitted, filename: string | undefined, content: Readable): Promise<{ key: string; upload: UploadRow }> {
    const name = admitted.name === FILENAME_TEMPLATE ? baseName(filename ?? '') : admitted.name
    const problem = nameProblem(name)
    if (problem) {
      content.resume()
      throw invalid(['key', problem])
    }
    const extension = extensionOf(name)
    if (!extension || !this.options.extensions.includes(extension)) {
      content.resume()
      throw invalid(['file', 'has an extension that is not allowed'])
    }
    const store = this.files.current
    const object = `${admitted.account}/${randomUUID()}`
    let stored
    try {
      stored = await store.put(object, content, this.options.sizeLimit)
    } catch (error) {
      if (error instanceof FileTooLarge) throw invalid(['file', `is too large (maximum is ${this.options.sizeLimit} bytes)`])
      throw error
    }
    const row = { account_id: admitted.account, name, size: stored.size, content_type: contentTypeOf(extension), sha256: stored.sha256, storage: store.kind, object, created_at: nowSeconds() }
    try {
      for (let attempt = 0; ; attempt++) {
        // A storage answer may be used for several files of one name (the Ruby SDK keeps it for a
        // whole call): the second gets a key of its own, one level deeper, and the answer says which.
        const key = attempt === 0 ? `${admitted.prefix}${name}` : `${admitted.prefix}${randomBytes(4).toString('hex')}/${name}`
        try {
          const upload = await this.db.insertInto('uploads').values({ ...row, key }).returningAll().executeTakeFirstOrThrow()
          return { key, upload: upload as UploadRow }
        } catch (error) {
          if (!isUniqueViolation(error) || attempt >= 3) throw error
        }
      }
    } catch (error) {
      await store.delete(object).catch(() => {})
      throw error
    }
  }

  /** The upload behind an attachment id, when the attachment exists (who may read it is the caller's rule). */
  async ofAttachment(attachmentId: number): Promise<(UploadRow & { record_type: string; record_id: number; owner: string }) | undefined> {
    const row = await this.db
      .selectFrom('attachments as a')
      .innerJoin('uploads as u', 'u.id', 'a.upload_id')
      .select(['u.id', 'u.account_id', 'u.key', 'u.name', 'u.size', 'u.content_type', 'u.sha256', 'u.storage', 'u.object', 'a.record_type', 'a.record_id', 'a.account_id as owner'])
      .where('a.id', '=', attachmentId)
      .executeTakeFirst()
    return row as (UploadRow & { record_type: string; record_id: number; owner: string }) | undefined
  }

  open(upload: UploadRow): Promise<Readable | undefined> {
    return this.files.of(upload.storage).get(upload.object)
  }

  /**
   * Deletes uploads that no record refers to and that are older than `age` seconds: the row first
   * (a DELETE that finds it still unreferenced), then its file, so with several processes each
   * upload is deleted by exactly one, and a file is never gone while a row names it. Then what
   * puts of a process that died in the middle left behind, begun as long ago. Answers how many
   * uploads were deleted.
   */
  async sweep(now = nowSeconds(), age = UNREFERENCED_SECONDS, batch = 100): Promise<number> {
    const unreferenced = (eb: any) => eb.not(eb.exists(eb.selectFrom('attachments').select('attachments.id').whereRef('attachments.upload_id', '=', 'uploads.id')))
    const candidates = await this.db.selectFrom('uploads').select('id').where('created_at', '<', now - age).where(unreferenced).orderBy('created_at').orderBy('id').limit(batch).execute()
    let deleted = 0
    for (const { id } of candidates) {
      try {
        const gone = await this.db.deleteFrom('uploads').where('id', '=', Number(id)).where(unreferenced).returning(['storage', 'object']).executeTakeFirst()
        if (!gone) continue
        await this.files.of(String(gone.storage)).delete(String(gone.object))
        deleted++
      } catch {
        // Attached meanwhile (the foreign key refused the delete), or the file is already gone:
        // the next run judges it again.
      }
    }
    // What uploads of a process that died in the middle left, in either store (one that cannot be
    // read, such as a folder never used, has nothing to remove).
    for (const kind of ['local', 'database'] as const) await this.files.of(kind).removeAbandoned(now - age).catch(() => 0)
    return deleted
  }
}

/** The last segment of a path (either slash), as busboy's preservePath=false would give it. */
export function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1).trim()
}

function nameProblem(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return "can't be blank"
  // One segment of printable text: a key names a file, not a folder, and nothing hides in it.
  if (/[/\\\u0000-\u001f\u007f]/.test(name) || !name.isWellFormed() || name === FILENAME_TEMPLATE) return 'is invalid'
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) return `is too long (maximum is ${MAX_NAME_BYTES} bytes)`
  return undefined
}

export function extensionOf(name: string): string | undefined {
  const dot = name.lastIndexOf('.')
  return dot > 0 && dot < name.length - 1 ? name.slice(dot + 1).toLowerCase() : undefined
}

const CONTENT_TYPES: Record<string, string> = {
  pdf: 'application/pdf', txt: 'text/plain', log: 'text/plain', csv: 'text/csv', md: 'text/markdown', rtf: 'application/rtf',
  doc: 'application/msword', docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint', pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text', ods: 'application/vnd.oasis.opendocument.spreadsheet', odp: 'application/vnd.oasis.opendocument.presentation',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', svg: 'image/svg+xml', bmp: 'image/bmp', tif: 'image/tiff', tiff: 'image/tiff',
  mp4: 'video/mp4', webm: 'video/webm', mov: 'video/quicktime', mp3: 'audio/mpeg', wav: 'audio/wav',
  zip: 'application/zip', gz: 'application/gzip', tgz: 'application/gzip', '7z': 'application/x-7z-compressed',
  json: 'application/json', xml: 'application/xml', yaml: 'application/yaml', yml: 'application/yaml',
}

/**
 * The content type an upload is stored and served with: from its extension, by the server. The
 * client's `Content-Type` field is not trusted (the Ruby SDK sends application/octet-stream for
 * everything, since it guesses from the key template).
 */
export function contentTypeOf(extension: string): string {
  return Object.hasOwn(CONTENT_TYPES, extension) ? CONTENT_TYPES[extension] : 'application/octet-stream'
}
