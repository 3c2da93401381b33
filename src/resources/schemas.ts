// The request and response schemas of a resource's routes, derived from its catalogue. They feed
// serialization and the OpenAPI document; requests are validated by the catalogue (see app.ts).
import { Type, type TObject, type TSchema } from 'typebox'
import type { Field, Resource } from '../catalogue/resource.ts'
import { auditEntries } from './audit-entries/fields.ts'

export const ErrorBody = Type.Object({
  message: Type.String(),
  errors: Type.Optional(Type.Array(Type.Array(Type.String(), { minItems: 2, maxItems: 2 }), { description: '[field, message] pairs, in field order' })),
})

const ERRORS: Record<number, string> = {
  400: 'Invalid JSON, or a query parameter that is not allowed ({"message": "Sorting not allowed on fields: x"}, ...)',
  401: 'No valid token: {"message": "Unauthorized"}',
  403: 'The account header names another account, or a read token writes: {"message": "Forbidden"}',
  404: 'Unknown path or record, or a record of another account: {"message": "Not Found"}',
  409: 'The record changed since the If-Match ETag; nothing was changed: {"message": "Conflict"}',
  413: 'The body is larger than BODY_LIMIT: {"message": "Payload Too Large"}',
  415: 'The body is not JSON: {"message": "Unsupported Media Type"}',
  422: 'Validation failed: {"message": "Validation Failed", "errors": [["name", "can\'t be blank"]]}',
  429: 'Rate limit exceeded; Retry-After says when to try again: {"message": "Too Many Requests"}',
  503: 'The database cannot be reached; Retry-After says when to try again: {"message": "Service Unavailable"}',
}

/** Error responses every authenticated route may give. */
const AUTHENTICATED = [401, 403, 429, 503]

export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries([...new Set([...statuses, ...AUTHENTICATED])].sort((a, b) => a - b).map((status) => [status, { ...ErrorBody, description: ERRORS[status] }]))
}

const accountHeaders = {
  'x-4me-account': Type.Optional(Type.String({ description: 'The working account; the token owner\'s own account when left out' })),
  'x-xurrent-account': Type.Optional(Type.String({ description: 'Same as X-4me-Account, and wins when both are sent' })),
}

const Headers = Type.Object(accountHeaders)
const IdParams = Type.Object({ id: Type.String({ description: 'The record\'s id, or its nodeID' }) })

function filterDescription(field: Field): string {
  const kind = field.type.kind
  const ranges = kind === 'integer' || kind === 'datetime' || kind === 'duration' || kind === 'reference'
  return [
    `Filter on ${field.name}: value for equality, "!value" for inequality, "" for empty, "!" for present`,
    kind === 'integer' || kind === 'reference' || kind === 'enum' ? ', "a,b" for one of' : '',
    ranges ? ', "<v", "<=v", ">v", ">=v" and two of them for a range' : '',
    '.',
  ].join('')
}

function collectionQuery(resource: Resource): TObject {
  const names = (fields: Iterable<Field>) => [...fields].map((f) => f.name).join(', ')
  const properties: Record<string, TSchema> = {
    fields: Type.String({ description: `Comma-separated fields to return, of: ${names(resource.readable)}` }),
    sort: Type.String({ description: `Comma-separated sort keys, "-" before a key for descending, of: ${names(resource.sortable.values())}` }),
    per_page: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Records per page; more than 100 means 100' }),
    page: Type.Integer({ minimum: 1, description: 'Page number' }),
    search_after: Type.String({ description: 'Cursor of the next page, as the Link header gives it' }),
    search_before: Type.String({ description: 'Cursor of the previous page, as the Link header gives it' }),
  }
  for (const [key, field] of resource.filterable) properties[key] = Type.String({ description: filterDescription(field) })
  return Type.Object(Object.fromEntries(Object.entries(properties).map(([key, schema]) => [key, Type.Optional(schema)])))
}

/** The body of a create or update: every writable field by its input name. */
function writeBody(resource: Resource, mode: 'create' | 'update'): TSchema {
  const properties: Record<string, TSchema> = {}
  for (const field of resource.writable) {
    const schema = field.type.kind === 'reference' ? Type.Integer({ minimum: 1, description: `id of the ${field.name}` }) : field.type.schema()
    const described = field.description ? { ...schema, description: field.description } : schema
    properties[field.input] = mode === 'create' && field.required ? described : Type.Optional(described)
  }
  return Type.Object(properties, {
    description: 'Scalars may also be sent as strings ("true", "12"), and "" for null, as the official Ruby SDK does. Unknown keys are ignored.',
  })
}

const ETAG_HEADERS = {
  'if-none-match': Type.Optional(Type.String({ description: 'An ETag of this answer: 304 without a body while it is unchanged' })),
}
const IF_MATCH_HEADERS = {
  'if-match': Type.Optional(Type.String({ description: 'An ETag of this record, or *: 409 and no change when the record has changed since' })),
}

/** Schemas of the routes resourceRoutes() makes, by route. */
export function routeSchemas(resource: Resource) {
  const tags = [resource.name]
  const record = resource.recordSchema
  const list = Type.Array(Type.Partial(record))
  return {
    list: { tags, summary: `List ${resource.name}`, headers: Type.Object({ ...accountHeaders, ...ETAG_HEADERS }), querystring: collectionQuery(resource), response: { 200: list, ...errorResponses(400) } },
    subset: (name: string) => ({
      tags,
      summary: `List ${resource.name}: predefined filter ${name}`,
      headers: Headers,
      querystring: collectionQuery(resource),
      response: { 200: list, ...errorResponses(400) },
    }),
    show: {
      tags,
      summary: `One of ${resource.name}`,
      headers: Type.Object({ ...accountHeaders, ...ETAG_HEADERS }),
      params: IdParams,
      response: { 200: record, 304: { type: 'null', description: 'Not modified (If-None-Match)' }, ...errorResponses(404) },
    },
    audit: {
      tags,
      summary: `Audit trail of one of ${resource.name}, newest first`,
      headers: Type.Object({ ...accountHeaders, ...ETAG_HEADERS }),
      params: IdParams,
      querystring: collectionQuery(auditEntries),
      response: { 200: Type.Array(Type.Partial(auditEntries.recordSchema)), 304: { type: 'null', description: 'Not modified (If-None-Match)' }, ...errorResponses(400, 404) },
    },
    create: {
      tags,
      summary: `Create one of ${resource.name}`,
      headers: Headers,
      body: writeBody(resource, 'create'),
      response: { 201: record, ...errorResponses(400, 413, 415, 422) },
    },
    publish: {
      tags,
      summary: `Publish a draft of ${resource.name}: a new published version, 1, 2, ... per reference`,
      headers: Headers,
      params: IdParams,
      response: { 201: record, ...errorResponses(404, 422) },
    },
    remove: {
      tags,
      summary: `Delete one of ${resource.name}`,
      headers: Type.Object({ ...accountHeaders, ...IF_MATCH_HEADERS }),
      params: IdParams,
      response: { 204: { type: 'null', description: 'Deleted' }, ...errorResponses(404, 409, 422) },
    },
    picture: (part: string) => ({
      tags,
      summary: `Set the picture of one of ${resource.name} from an upload (multipart/form-data: ${part}_file_name and the file as ${part}); answers the record`,
      consumes: ['multipart/form-data'],
      headers: Type.Object({ ...accountHeaders, ...IF_MATCH_HEADERS }),
      params: IdParams,
      body: Type.Object({
        [`${part}_file_name`]: Type.Optional(Type.String({ description: 'The file\'s name (not trusted: the type is what the bytes are)' })),
        [part]: Type.String({ format: 'binary', description: 'A JPG, GIF, WEBP, PNG or SVG image of at most 2 MiB' }),
      }),
      response: { 200: record, ...errorResponses(400, 404, 409, 415, 422) },
    }),
    update: (method: 'PATCH' | 'PUT') => ({
      tags,
      summary: method === 'PUT' ? `Update one of ${resource.name} (as PATCH)` : `Update one of ${resource.name}`,
      headers: Type.Object({ ...accountHeaders, ...IF_MATCH_HEADERS }),
      params: IdParams,
      body: writeBody(resource, 'update'),
      response: { 200: record, ...errorResponses(400, 404, 409, 413, 415, 422) },
    }),
  }
}
