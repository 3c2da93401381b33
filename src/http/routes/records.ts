// The REST routes every resource shares, made from its catalogue and its rules: the collection
// and its predefined filters, one record, create, update, its audit trail, and 405 for what the
// resource does not allow. Thin: each reads the request, calls the records core, sends.
import { Type } from 'typebox'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { parseRecordId } from '../../catalogue/node-id.ts'
import type { Readable } from 'node:stream'
import { ROW_BASE_URL, type Resource, type Row } from '../../catalogue/resource.ts'
import { Messages } from '../../catalogue/types.ts'
import { Errors } from '../../errors.ts'
import { linkHeader, paginationHeaders } from '../../query/links.ts'
import { parseQuery, type Filter, type Plan } from '../../query/parse.ts'
import { Presenter } from '../../records/present.ts'
import { CollectionReader, type CollectionAnswer } from '../../records/reuse.ts'
import type { Rules, WriteContext } from '../../records/rules.ts'
import { RecordStore, type Subset } from '../../records/store.ts'
import { RecordWriter } from '../../records/write.ts'
import { auditEntries } from '../../resources/audit-entries/fields.ts'
import { requireWrite } from '../auth.ts'
import { jsonObject } from '../body.ts'
import { acceptMultipart, readForm } from '../multipart.ts'
import { etag, expectedVersion, notModified } from '../etag.ts'
import { routeSchemas } from '../../resources/schemas.ts'
import { SOURCE_MAX } from '../../resources/source.ts'
import { baseUrl, rawQuery } from '../urls.ts'

const METHODS = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'] as const

export function recordRoutes(resource: Resource, rules: Rules = {}): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    const { config, database, secretKey } = app.services
    const context = { nodeIdDomain: config.nodeIdDomain }
    const sharing = rules.sharing
    const store = new RecordStore(database, resource, sharing?.byId, sharing?.ownerNames, rules.links)
    const presenter = new Presenter(resource, context)
    // A deleted row leaves no change_seq to move a watermark: lists of deletable records are not kept.
    const collection = new CollectionReader(store, presenter, { countCap: config.paginationCountCap, keptBytes: rules.deletable ? 0 : config.resultCacheBytes, keepAfter: config.resultCacheAfter })
    const writer = new RecordWriter(store, rules, { secretKey, nodeIdDomain: config.nodeIdDomain })
    // An audit trail is read once in a while, and by record: nothing of it is kept.
    const auditStore = new RecordStore(database, auditEntries)
    const trail = new CollectionReader(auditStore, new Presenter(auditEntries, context), { countCap: config.paginationCountCap, keptBytes: 0 })

    const parsing = { cursorSecret: secretKey, maxOffset: config.paginationMaxOffset }
    const collectionPath = `/${resource.name}`
    const recordPath = `/${resource.name}/:id`
    const schemas = routeSchemas(resource)

    /**
     * The record named by `:id` (its id or nodeID) in the working account; `visible`: or one
     * another account shares with it (records/sharing.ts), which it may read, and write only
     * where the resource lets readers write.
     */
    async function load(request: FastifyRequest<{ Params: { id: string } }>, visible = false): Promise<Row> {
      const id = parseRecordId(config.nodeIdDomain, resource.nodeType, request.params.id)
      const account = request.auth.account.id
      const row = id === undefined ? undefined : await (visible ? store.findVisible(account, id) : store.find(account, id))
      if (!row) throw Errors.notFound()
      return withBase(request, row)
    }

    // A collection of rows other accounts share shows whose they are (records/sharing.ts).
    const owner = sharing && resource.field(sharing.owner)
    const sharedParsing = owner ? { ...parsing, collectionFields: [...new Set([...resource.collectionFields, owner])].sort((a, b) => a.index - b.index) } : parsing

    // Every list of a resource whose readers see it all (an app instance's provider) is shared.
    const everyList: Subset | undefined = sharing?.lists && { name: '', shared: sharing.lists }

    function list(request: FastifyRequest, reply: FastifyReply, subset = everyList) {
      const plan = parseQuery(resource, rawQuery(request), subset?.shared ? sharedParsing : parsing)
      return collection.read(request.auth.account.id, plan, subset, baseUrl(request)).then((answer) => sendPage(request, reply, plan, answer))
    }

    function sendPage(request: FastifyRequest, reply: FastifyReply, plan: Plan, answer: CollectionAnswer) {
      const url = baseUrl(request) + request.url
      if (answer.link?.url !== url) answer.link = { url, value: linkHeader(url.split('?')[0], plan, answer.info, answer.count, secretKey) }
      if (answer.link.value) reply.header('link', answer.link.value)
      reply.headers(paginationHeaders(plan, answer.info, answer.count))
      answer.etag ??= etag(answer.body)
      return send(request, reply, answer.body, answer.etag)
    }

    app.get(collectionPath, { schema: schemas.list }, (request, reply) => list(request, reply))

    for (const [name, filter] of Object.entries(rules.predefinedFilters ?? {})) {
      const subset: Subset = typeof filter === 'function' ? { name, where: filter, shared: sharing?.lists } : { name, ...filter }
      app.get(`${collectionPath}/${name}`, { schema: schemas.subset(name) }, (request, reply) => list(request, reply, subset))
    }

    app.get<{ Params: { id: string } }>(recordPath, { schema: schemas.show }, async (request, reply) => {
      return send(request, reply, presenter.record(await load(request, true)))
    })

    app.get<{ Params: { id: string } }>(`${recordPath}/audit`, { schema: schemas.audit }, async (request, reply) => {
      const record = await load(request, !!sharing?.readersWrite)
      const plan = parseQuery(auditEntries, rawQuery(request), parsing)
      // The record's trail, as bound values in front of the client's own filters.
      const ofRecord: Filter[] = [
        { field: auditEntries.internalField('record_type'), condition: { op: 'eq', value: resource.name } },
        { field: auditEntries.internalField('record_id'), condition: { op: 'eq', value: Number(record.id) } },
      ]
      const scoped = { ...plan, filters: [...ofRecord, ...plan.filters] }
      // The trail lives in the record owner's account (records/write.ts).
      const trailAccount = record.account_id === undefined ? request.auth.account.id : String(record.account_id)
      return sendPage(request, reply, scoped, await trail.read(trailAccount, scoped))
    })

    app.post(collectionPath, { schema: schemas.create }, async (request, reply) => {
      requireWrite(request)
      const row = withBase(request, await writer.create(request.auth.account, jsonObject(request), writeContext(request)))
      reply.code(201).header('location', `${baseUrl(request)}/v1/${resource.name}/${Number(row.id)}`)
      return send(request, reply, presenter.record(row))
    })

    const update = async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
      const existing = await load(request, !!sharing?.readersWrite)
      requireWrite(request)
      const expected = expectedVersion(request, presenter.record(existing), existing)
      const row = withBase(request, await writer.update(request.auth.account, existing, jsonObject(request), writeContext(request), expected))
      return send(request, reply, presenter.record(row))
    }
    app.patch(recordPath, { schema: schemas.update('PATCH') }, update)
    app.put(recordPath, { schema: schemas.update('PUT') }, update)

    if (rules.publish) {
      // A published copy of the draft, made by one unit of work (RecordWriter.publish).
      app.post<{ Params: { id: string } }>(`${recordPath}/publish`, { schema: schemas.publish }, async (request, reply) => {
        const draft = await load(request)
        requireWrite(request)
        const row = withBase(request, await writer.publish(request.auth.account, draft, writeContext(request)))
        reply.code(201).header('location', `${baseUrl(request)}/v1/${resource.name}/${Number(row.id)}`)
        return send(request, reply, presenter.record(row))
      })
      refuseOtherMethods(app, `${recordPath}/publish`, ['POST'])
    }

    if (rules.activate) {
      // An immutable version of the record, made by one unit of work (RecordWriter.activate).
      const versionPresenter = new Presenter(rules.activate.versions, context)
      app.post<{ Params: { id: string } }>(`${recordPath}/activate`, { schema: { ...schemas.publish, summary: `Activate one of ${resource.name}: a new immutable version`, response: { ...schemas.publish.response, 201: rules.activate.versions.recordSchema } } }, async (request, reply) => {
        const record = await load(request)
        requireWrite(request)
        const row = await writer.activate(request.auth.account, record, writeContext(request))
        reply.code(201).header('location', `${baseUrl(request)}/v1/${resource.name}/${Number(record.id)}/${rules.activate!.versions.name}/${Number(row.id)}`)
        return send(request, reply, versionPresenter.record(row))
      })
      refuseOtherMethods(app, `${recordPath}/activate`, ['POST'])
    }

    const picture = rules.picture
    if (picture) {
      // The picture as a multipart upload (the app builder's avatar), in a scope of its own: no
      // other route of the resource takes multipart bodies.
      const path = `${recordPath}/${picture.part}`
      await app.register(async (scope) => {
        await acceptMultipart(scope)
        scope.post<{ Params: { id: string } }>(path, { schema: schemas.picture(picture.part) }, async (request, reply) => {
          const existing = await load(request)
          requireWrite(request)
          const expected = expectedVersion(request, presenter.record(existing), existing)
          const result = await readForm(request, picture.part, picture.maxBytes + 1, (file) => readAtMost(file.stream, picture.maxBytes))
          if (result === undefined) throw Errors.validationFailed([[picture.part, "can't be blank"]])
          if (result === null) throw Errors.validationFailed([[picture.part, `is too large (maximum is ${picture.maxBytes} bytes)`]])
          // The type is what the bytes are; the file name and the part's type are not trusted.
          const value = picture.fromBytes(result)
          if (value === undefined) throw Errors.validationFailed([[picture.part, Messages.invalid]])
          const row = withBase(request, await writer.update(request.auth.account, existing, { [picture.field]: value }, writeContext(request), expected))
          return send(request, reply, presenter.record(row))
        })
      })
      refuseOtherMethods(app, path, ['POST'])
    }

    for (const child of rules.children ?? []) {
      // Bound to the parent record, so its answers are not kept (the key would not tell them apart).
      const childSharing = child.rules.sharing
      const childStore = new RecordStore(database, child.resource, childSharing?.byId, childSharing?.ownerNames)
      const childReader = new CollectionReader(childStore, new Presenter(child.resource, context), { countCap: config.paginationCountCap, keptBytes: 0 })
      const childSubset: Subset | undefined = childSharing?.lists && { name: '', shared: childSharing.lists }
      const path = `${recordPath}/${child.name}`
      app.get<{ Params: { id: string } }>(path, { schema: routeSchemas(child.resource).list }, async (request, reply) => {
        const parent = await load(request)
        const plan = parseQuery(child.resource, rawQuery(request), parsing)
        const scoped = { ...plan, filters: [...child.bind(parent), ...plan.filters] }
        return sendPage(request, reply, scoped, await childReader.read(request.auth.account.id, scoped, childSubset))
      })
      refuseOtherMethods(app, path, ['GET'])
      // One child record, if it belongs to the parent (every bound equality holds).
      const childPresenter = new Presenter(child.resource, context)
      app.get<{ Params: { id: string; childId: string } }>(`${path}/:childId`, { schema: { ...routeSchemas(child.resource).show, params: Type.Object({ id: Type.String({ description: `The ${resource.name} record's id, or its nodeID` }), childId: Type.String({ description: 'The id of one of its records, or its nodeID' }) }) } }, async (request, reply) => {
        const parent = await load(request)
        const childId = parseRecordId(config.nodeIdDomain, child.resource.nodeType, request.params.childId)
        const row = childId === undefined ? undefined : await childStore.findVisible(request.auth.account.id, childId)
        const belongs = row && child.bind(parent).every((f) => f.condition.op !== 'eq' || String(row[f.field.column!]) === String(f.condition.value))
        if (!belongs) throw Errors.notFound()
        return send(request, reply, childPresenter.record(row))
      })
      refuseOtherMethods(app, `${path}/:childId`, ['GET'])
    }

    if (rules.deletable) {
      app.delete<{ Params: { id: string } }>(recordPath, { schema: schemas.remove }, async (request, reply) => {
        const existing = await load(request)
        requireWrite(request)
        expectedVersion(request, presenter.record(existing), existing)
        await writer.delete(request.auth.account, existing, writeContext(request))
        return reply.code(204).send()
      })
    }

    refuseOtherMethods(app, collectionPath, ['GET', 'POST'])
    refuseOtherMethods(app, recordPath, rules.deletable ? ['GET', 'PATCH', 'PUT', 'DELETE'] : ['GET', 'PATCH', 'PUT'])
  }
}

/** The row with the base of the absolute URLs it renders (its attachments' download URIs). */
function withBase(request: FastifyRequest, row: Row): Row {
  row[ROW_BASE_URL] = baseUrl(request)
  return row
}

/** The stream's bytes, or null once there are more than `max` (the rest is read and dropped). */
async function readAtMost(stream: Readable, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    size += (chunk as Buffer).length
    if (size <= max) chunks.push(chunk as Buffer)
  }
  return size > max ? null : Buffer.concat(chunks)
}

/** Sends rendered JSON text with its ETag, or 304 when the client's If-None-Match names it. */
function send(request: FastifyRequest, reply: FastifyReply, body: string, tagged = etag(body)): FastifyReply {
  reply.header('etag', tagged)
  if (reply.statusCode === 200 && notModified(request, tagged)) return reply.code(304).send()
  return reply.type('application/json; charset=utf-8').send(body)
}

/** Who writes, and what the client calls itself (`source` on create, app-offerings.md). */
function writeContext(request: FastifyRequest): WriteContext {
  const fromHeaders = headerValue(request, 'x-xurrent-source') ?? headerValue(request, 'x-4me-source') ?? headerValue(request, 'user-agent')
  const { auth } = request
  return {
    actor: auth.person,
    source: fromHeaders === undefined ? undefined : [...fromHeaders].slice(0, SOURCE_MAX).join(''),
  }
}

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const raw = request.headers[name]
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim()
  return value && value.isWellFormed() && !value.includes('\u0000') ? value : undefined
}

/** 405 with an Allow header for every method a path does not support. */
export function refuseOtherMethods(app: FastifyInstance, url: string, allowed: string[]): void {
  const refused = METHODS.filter((m) => !allowed.includes(m))
  app.route({
    method: refused,
    url,
    schema: { hide: true },
    handler: async () => {
      throw Errors.methodNotAllowed(allowed)
    },
  })
}
