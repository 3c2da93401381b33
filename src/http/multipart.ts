// multipart/form-data for the routes that take files (uploads, the avatar), through
// @fastify/multipart in stream mode: fields are collected as they come, and the one file part is
// handed over as a stream while the body is still arriving, so a file is never held whole in
// memory. The content type is accepted only in the scope that registers it (`acceptMultipart`);
// every other route still answers 415. An answer given before the body was read to its end (a
// refused upload) drains the rest, as a 413 does, so the client reads it.
import type { Readable } from 'node:stream'
import fastifyMultipart from '@fastify/multipart'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { discardRest } from './content-types.ts'
import { ApiError, Errors } from './errors.ts'

export async function acceptMultipart(app: FastifyInstance): Promise<void> {
  // Limits are per route (readForm); the size of a file is judged by its reader, not thrown here.
  await app.register(fastifyMultipart, { throwFileSizeLimit: false, limits: { files: 5, fields: 50, fieldSize: 16 * 1024, parts: 60, headerPairs: 20 } })
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

/**
 * Reads a multipart body: fields by name (the last of a name wins), and the first file part named
 * `fileField` handed to `onFile` with the fields sent before it; other file parts are dropped.
 * `fileSize`: the bytes of a file part passed on, past which its stream ends early. Answers what
 * onFile answered (undefined when no such file came). A body that is not well-formed multipart is
 * a 400; one that is not multipart at all a 415.
 */
export async function readForm<T>(request: FastifyRequest, fileField: string, fileSize: number, onFile: (file: FilePart, fields: Map<string, string>) => Promise<T>): Promise<T | undefined> {
  if (!request.isMultipart()) throw Errors.unsupportedMediaType()
  const fields = new Map<string, string>()
  let result: T | undefined
  let handled = false
  try {
    for await (const part of request.parts({ limits: { fileSize } })) {
      if (part.type === 'field') {
        fields.set(part.fieldname, String(part.value))
      } else if (part.fieldname !== fileField || handled) {
        part.file.resume()
      } else {
        handled = true
        result = await onFile({ field: part.fieldname, filename: part.filename || undefined, mimetype: part.mimetype, stream: part.file }, new Map(fields))
      }
    }
  } catch (error) {
    if (error instanceof ApiError) throw error
    // The parser's errors (a truncated body, a broken boundary, too many parts): the client's.
    const code = (error as { code?: string }).code ?? ''
    if (code.startsWith('FST_') || /multipart|boundary|Unexpected end/i.test((error as Error).message)) throw Errors.badRequest('Invalid multipart/form-data body')
    throw error
  }
  return result
}
