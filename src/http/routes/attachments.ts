// The attachment routes (attachments.md): where to upload (GET /v1/attachments/storage), the
// upload itself (POST /v1/attachments, multipart, streamed into the FileStore), and the download
// of an attachment (GET /v1/attachments/:id/download). Thin: the work is in records/uploads.ts.
import { Type } from 'typebox'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify'
import { RecordStore } from '../../records/store.ts'
import type { Rules } from '../../records/rules.ts'
import type { Uploads, UploadRow } from '../../records/uploads.ts'
import type { Resource } from '../../catalogue/resource.ts'
import { errorResponses } from '../../resources/schemas.ts'
import { requireWrite } from '../auth.ts'
import { Errors } from '../errors.ts'
import { notModified } from '../etag.ts'
import { acceptMultipart, readForm } from '../multipart.ts'
import { baseUrl } from '../urls.ts'
import { refuseOtherMethods } from './records.ts'

/** Bytes a multipart body may carry besides its file: the form fields, boundaries and part headers. */
export const FORM_OVERHEAD = 64 * 1024

const tags = ['attachments']
const accountHeaders = Type.Object({
  'x-4me-account': Type.Optional(Type.String({ description: "The working account; the token owner's own account when left out" })),
  'x-xurrent-account': Type.Optional(Type.String({ description: 'Same as X-4me-Account, and wins when both are sent' })),
})

const StorageSchema = Type.Object(
  {
    provider: Type.String({ enum: ['local'] }),
    upload_uri: Type.String({ format: 'uri', description: 'Where to POST the upload' }),
    size_limit: Type.Integer({ description: 'The largest file, in bytes (ATTACHMENT_SIZE_LIMIT)' }),
    allowed_extensions: Type.Array(Type.String()),
    local: Type.Object(
      {
        key: Type.String({ description: 'attachments/<account>/<random>/${filename}: send it back as it is, or with ${filename} filled in' }),
        'x-4me-expiration': Type.String({ format: 'date-time' }),
        'x-4me-signature': Type.String(),
      },
      { description: 'Form fields the upload must send back unchanged' },
    ),
  },
  { description: 'Where and how to upload a file' },
)

const UploadForm = Type.Object(
  {
    'Content-Type': Type.Optional(Type.String({ description: 'The type of the file (not trusted: the type is the extension\'s)' })),
    key: Type.String(),
    'x-4me-expiration': Type.String(),
    'x-4me-signature': Type.String(),
    file: Type.String({ format: 'binary', description: 'The file, sent last' }),
  },
  { description: 'Every form field of the storage answer, then the file' },
)

/** An attachment downloads as a file, except the raster images a browser may show inline. */
const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])

/**
 * `withAttachments`: the resources whose records carry attachments, and their rules, which say
 * who besides a record's owner may read it (and so download its attachments: the accounts that
 * read a published version).
 */
export function attachmentRoutes(uploads: Uploads, withAttachments: Array<{ resource: Resource; rules: Rules }>): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    const { database } = app.services
    const stores = new Map(withAttachments.map(({ resource, rules }) => [resource.name, new RecordStore(database, resource, rules.sharing?.byId, rules.sharing?.ownerNames)]))
    await acceptMultipart(app)

    app.get('/attachments/storage', { schema: { tags, summary: 'Where to upload a file: the upload URI, the limits and the signed form fields', headers: accountHeaders, response: { 200: StorageSchema, ...errorResponses() } } }, async (request, reply) => {
      const answer = uploads.storage(request.auth.account.id, `${baseUrl(request)}/v1/attachments`)
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(answer))
    })

    app.post(
      '/attachments',
      {
        schema: {
          tags,
          summary: 'Upload a file (multipart/form-data), as the storage answer says; answers its key',
          consumes: ['multipart/form-data'],
          headers: accountHeaders,
          body: UploadForm,
          response: { 200: Type.Object({ key: Type.String() }), ...errorResponses(400, 415, 422) },
        },
      },
      async (request, reply) => {
        requireWrite(request)
        const account = request.auth.account.id
        const limit = uploads.options.sizeLimit
        // A body declared larger than any allowed file can be refused before a byte of it is read.
        const declared = Number(request.headers['content-length'])
        if (Number.isFinite(declared) && declared > limit + FORM_OVERHEAD) throw tooLarge(limit)
        const result = await readForm(request, 'file', limit + 1, async (file, fields) => {
          // The SDK names the fields as the storage answer does; S3-style underscores work too.
          const field = (name: string) => fields.get(name) ?? fields.get(name.replaceAll('-', '_'))
          const admitted = uploads.admit(account, { key: fields.get('key'), expiration: field('x-4me-expiration'), signature: field('x-4me-signature') })
          return uploads.accept(admitted, file.filename, file.stream)
        })
        if (!result) throw Errors.validationFailed([['file', "can't be blank"]])
        return reply.type('application/json; charset=utf-8').send(JSON.stringify({ key: result.key }))
      },
    )
    refuseOtherMethods(app, '/attachments', ['POST'])
    refuseOtherMethods(app, '/attachments/storage', ['GET'])

    app.get<{ Params: { id: string } }>(
      '/attachments/:id/download',
      {
        schema: {
          tags,
          summary: 'Download an attachment: the owner of its record, and the accounts that may read a published version carrying it',
          headers: accountHeaders,
          params: Type.Object({ id: Type.String({ description: 'The attachment\'s id, from a record\'s attachments' }) }),
          produces: ['application/octet-stream'],
          response: { 200: { description: 'The file, with its content type and Content-Disposition' }, 304: { type: 'null', description: 'Not modified (If-None-Match)' }, ...errorResponses(404) },
        },
      },
      async (request, reply) => {
        const id = /^\d{1,15}$/.test(request.params.id) ? Number(request.params.id) : undefined
        const upload = id === undefined ? undefined : await uploads.ofAttachment(id)
        // The record it is attached to decides: its owner, or an account that may read it (a
        // customer that trusts the provider reads its published versions). Anyone else: 404.
        const store = upload && stores.get(upload.record_type)
        const readable = store && (upload.owner === request.auth.account.id || (await store.findVisible(request.auth.account.id, upload.record_id)) !== undefined)
        if (!upload || !readable) throw Errors.notFound()
        // Files never change under their id: a client that has it keeps it.
        const tag = `W/"${upload.sha256.slice(0, 32)}"`
        if (notModified(request, tag)) return reply.code(304).header('etag', tag).send()
        const content = await uploads.open(upload)
        if (!content) {
          request.log.error({ upload: upload.id }, 'an attachment\'s file is missing from its store')
          throw Errors.notFound()
        }
        return sendFile(reply, upload, content, tag)
      },
    )
    refuseOtherMethods(app, '/attachments/:id/download', ['GET'])
  }
}

function tooLarge(limit: number) {
  return Errors.validationFailed([['file', `is too large (maximum is ${limit} bytes)`]])
}

/**
 * The file as stored, with the type the server gave it. Nothing from it may run: no sniffing, a
 * CSP that allows nothing and sandboxes the document (an SVG opened on its own runs no script),
 * and anything but a raster image downloads as a file instead of opening in the browser.
 */
function sendFile(reply: FastifyReply, upload: UploadRow, content: NodeJS.ReadableStream, tag: string): FastifyReply {
  const disposition = INLINE_TYPES.has(upload.content_type) ? 'inline' : 'attachment'
  return reply
    .header('content-type', upload.content_type)
    .header('content-length', String(upload.size))
    .header('content-disposition', contentDisposition(disposition, upload.name))
    .header('content-security-policy', "default-src 'none'; sandbox")
    .header('x-content-type-options', 'nosniff')
    .header('etag', tag)
    .send(content)
}

/** RFC 6266: an ASCII fallback name and the UTF-8 name (RFC 8187). */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_')
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encoded}`
}
