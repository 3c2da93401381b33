// multipart/form-data for the routes that take files (uploads, the avatar), parsed as it arrives
// with busboy: fields are collected, and the one file part is handed over as a stream while the
// body is still coming in, so a file is never held whole in memory. The content type is accepted
// only in the scope that registers it (`acceptMultipart`); every other route still answers 415.
// An answer given before the body was read to its end (a refused upload) drains the rest, as a
// 413 does, so the client reads it.
import type { Readable } from 'node:stream'
import { Busboy, type BusboyHeaders, type BusboyInstance } from '@fastify/busboy'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { discardRest } from './content-types.ts'
import { Errors } from './errors.ts'

const MULTIPART = 'multipart/form-data'

export function acceptMultipart(app: FastifyInstance): void {
  // The body stays unread: the handler streams it, after the 404 and 403 checks.
  app.addContentTypeParser(MULTIPART, (_request, _payload, done) => done(null, undefined))
  app.addHook('onResponse', (request, _reply, done) => {
    done()
    discardRest(request.raw)
  })
}

export interface FilePart {
  field: string
  /** The part's file name, without any folders (busboy keeps the last segment). */
  filename: string | undefined
  /** The type the client says the part is: never trusted for what is stored. */
  mimetype: string
  stream: Readable
}

export interface FormLimits {
  /** Bytes of a file part busboy passes on; past it the stream ends early (`truncated`). */
  fileSize: number
}

/**
 * Reads a multipart body: fields by name (the last of a name wins), and the first file part named
 * `fileField` handed to `onFile` together with the fields sent before it. Other file parts are
 * dropped. Answers the fields and what onFile answered (undefined when no such file came).
 */
export async function readForm<T>(
  request: FastifyRequest,
  fileField: string,
  limits: FormLimits,
  onFile: (file: FilePart, fields: Map<string, string>) => Promise<T>,
): Promise<{ fields: Map<string, string>; result: T | undefined }> {
  const type = String(request.headers['content-type'] ?? '')
  if (!type.toLowerCase().startsWith(MULTIPART)) throw Errors.unsupportedMediaType()
  const fields = new Map<string, string>()
  let parser: BusboyInstance
  try {
    parser = new Busboy({
      headers: request.headers as BusboyHeaders,
      limits: { fileSize: limits.fileSize, files: 5, fields: 50, fieldSize: 16 * 1024, parts: 60, headerPairs: 20 },
    })
  } catch {
    throw Errors.badRequest('Invalid multipart/form-data body')
  }
  return new Promise((resolve, reject) => {
    let handling: Promise<T> | undefined
    let settled = false
    const fail = (error: unknown) => {
      if (settled) return
      settled = true
      reject(error)
    }
    parser.on('field', (name: string, value: string) => fields.set(name, value))
    parser.on('file', (name: string, stream: Readable, filename: string | undefined, _encoding: string, mimetype: string) => {
      if (name !== fileField || handling) return stream.resume()
      handling = onFile({ field: name, filename: filename || undefined, mimetype, stream }, new Map(fields))
      // A refusal answers at once; the rest of the body is drained after the answer.
      handling.catch(fail)
    })
    parser.on('error', () => fail(Errors.badRequest('Invalid multipart/form-data body')))
    parser.on('finish', () => {
      Promise.resolve(handling).then((result) => {
        if (settled) return
        settled = true
        resolve({ fields, result })
      }, fail)
    })
    request.raw.on('error', fail)
    request.raw.pipe(parser)
  })
}
