// The routes every resource shares, made from its catalogue and its rules: the collection and its
// predefined filters, one record, create, update, and 405 for what the resource does not allow.
import type { FastifyInstance, FastifyReply, FastifyPluginAsync, FastifyRequest } from 'fastify'
import { readBody, requireFields, type BodyResult, type Mode } from '../catalogue/body.ts'
import { parseRecordId } from '../catalogue/node-id.ts'
import type { Resource, Row } from '../catalogue/resource.ts'
import { Messages } from '../catalogue/types.ts'
import { requireWrite } from '../http/auth.ts'
import { jsonObject } from '../http/body.ts'
import { Errors, type FieldError } from '../http/errors.ts'
import { expectedVersion, notModified, tag } from '../http/etag.ts'
import { baseUrl, rawQuery } from '../http/urls.ts'
import { linkHeader, paginationHeaders } from '../query/links.ts'
import { parseQuery, type Plan } from '../query/parse.ts'
import { Presenter } from './presenter.ts'
import { routeSchemas } from './schemas.ts'
import { RecordStore, UniqueViolation, type Page, type Scope, type Subset } from './records.ts'
import type { Account } from '../storage/accounts.ts'

/** A write on its way to the database, as the resource's rules see it. */
export interface Write {
  mode: Mode
  body: BodyResult
  account: Account
  request: FastifyRequest
  /** The stored record, on update. */
  existing?: Row
}

export interface Rules {
  /** Defaults and cross-field rules: after coercion, before the required check. */
  prepare?(write: Write): void
  /** The field error that a unique constraint failure stands for. */
  unique?: FieldError
  /** Path segments after the collection that select a subset: name -> condition. */
  predefinedFilters?: Record<string, Scope>
}

const METHODS = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'] as const
/** Link headers kept per kept page: one per request URL that led to it (parameter order, host). */
const KEPT_LINKS = 8

export function resourceRoutes(resource: Resource, rules: Rules = {}): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    const { config, database, secretKey } = app.services
    const store = new RecordStore(database, resource, config.pageCacheEntries)
    const collectionPath = `/${resource.name}`
    const recordPath = `/${resource.name}/:id`
    const schemas = routeSchemas(resource)

    const presenter = new Presenter(resource, store, { nodeIdDomain: config.nodeIdDomain }, config.recordCacheEntries)

    // A kept page (see RecordStore.collection) always renders to the same body, and to the same
    // Link header for the same request URL: made once, they live as long as the page is kept.
    const answers = new WeakMap<Page, { body: string; links: Map<string, string | undefined> }>()

    function answer(request: FastifyRequest, plan: Plan, page: Page): { body: string; link: string | undefined } {
      let made = answers.get(page)
      if (!made) {
        made = { body: `[${presenter.render(request.auth.account.id, page.rows, plan.fields).join(',')}]`, links: new Map() }
        answers.set(page, made)
      }
      const base = baseUrl(request)
      const url = base + request.url
      if (!made.links.has(url)) {
        if (made.links.size >= KEPT_LINKS) made.links.clear()
        made.links.set(url, linkHeader(`${base}${request.url.split('?')[0]}`, plan, page.info, secretKey))
      }
      return { body: made.body, link: made.links.get(url) }
    }

    async function list(request: FastifyRequest, reply: FastifyReply, subset?: Subset) {
      const plan = parseQuery(resource, rawQuery(request), { cursorSecret: secretKey })
      const { page, count } = await store.collection(request.auth.account.id, plan, config.paginationCountCap, subset)
      const { body, link } = answer(request, plan, page)
      if (link) reply.header('link', link)
      reply.headers(paginationHeaders(plan, page.info, count))
      return json(reply, body)
    }

    /** The record named by `:id` (its id or nodeID) in the working account: with every column, or its head. */
    async function load(request: FastifyRequest<{ Params: { id: string } }>, part: 'find' | 'head' = 'find'): Promise<Row> {
      const id = parseRecordId(config.nodeIdDomain, resource.nodeType, request.params.id)
      const row = id === undefined ? undefined : await store[part](request.auth.account.id, id)
      if (!row) throw Errors.notFound()
      return row
    }

    /** A record just written, read back, tagged and rendered. */
    async function present(request: FastifyRequest, reply: FastifyReply, id: number) {
      const record = await presenter.one(request.auth.account.id, { id, lock_version: -1 })
      if (!record) throw Errors.notFound()
      tag(reply, { lock_version: record.version })
      return json(reply, record.text)
    }

    /** Body -> column values, or a 422 with every failing field. */
    async function prepare(request: FastifyRequest, mode: Mode, existing?: Row): Promise<Record<string, unknown>> {
      const body = readBody(resource, jsonObject(request), mode)
      const account = request.auth.account
      rules.prepare?.({ mode, body, account, request, existing })
      requireFields(resource, body, mode)
      for (const field of resource.writable) {
        const id = body.values.get(field.name)
        if (field.type.kind === 'reference' && id != null && !body.failed(field.name)) {
          if (!(await store.targetExists(account.id, field, id as number))) body.fail(field.name, Messages.mustExist)
        }
      }
      if (!body.ok) throw Errors.validationFailed(body.errorList())
      const columns: Record<string, unknown> = {}
      for (const [name, value] of body.values) {
        const field = resource.field(name)!
        if (!field.column) continue
        const stored = field.type.store(value)
        if (!existing || existing[field.column] !== stored) columns[field.column] = stored
      }
      return columns
    }

    const uniqueViolation = () => (rules.unique ? Errors.validationFailed([rules.unique]) : Errors.conflict())

    app.get(collectionPath, { schema: schemas.list }, (request, reply) => list(request, reply))

    for (const [name, scope] of Object.entries(rules.predefinedFilters ?? {})) {
      app.get(`${collectionPath}/${name}`, { schema: schemas.subset(name) }, (request, reply) => list(request, reply, { name, where: scope }))
    }

    app.get<{ Params: { id: string } }>(recordPath, { schema: schemas.show }, async (request, reply) => {
      const head = await load(request, 'head')
      if (notModified(request, head)) {
        tag(reply, head)
        return reply.code(304).send()
      }
      const record = await presenter.one(request.auth.account.id, head)
      if (!record) throw Errors.notFound()
      tag(reply, { lock_version: record.version })
      return json(reply, record.text)
    })

    app.post(collectionPath, { schema: schemas.create }, async (request, reply) => {
      requireWrite(request)
      const columns = await prepare(request, 'create')
      let id: number
      try {
        id = await store.insert(request.auth.account.id, columns)
      } catch (error) {
        if (error instanceof UniqueViolation) throw uniqueViolation()
        throw error
      }
      reply.code(201).header('location', `${baseUrl(request)}/v1/${resource.name}/${id}`)
      return present(request, reply, id)
    })

    const update = async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
      const existing = await load(request)
      requireWrite(request)
      const expected = expectedVersion(request, existing)
      const columns = await prepare(request, 'update', existing)
      const id = Number(existing.id)
      if (Object.keys(columns).length > 0) {
        try {
          // With If-Match the update applies only to the version the client saw: atomic, no lost update.
          if (!(await store.update(request.auth.account.id, id, columns, expected))) throw expected === undefined ? Errors.notFound() : Errors.conflict()
        } catch (error) {
          if (error instanceof UniqueViolation) throw uniqueViolation()
          throw error
        }
      }
      return present(request, reply, id)
    }
    app.patch(recordPath, { schema: schemas.update('PATCH') }, update)
    app.put(recordPath, { schema: schemas.update('PUT') }, update)

    refuseOtherMethods(app, collectionPath, ['GET', 'POST'])
    refuseOtherMethods(app, recordPath, ['GET', 'PATCH', 'PUT'])
  }
}

/** Sends JSON text as it is: the presenter has rendered it, there is nothing left to serialize. */
function json(reply: FastifyReply, text: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(text)
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
