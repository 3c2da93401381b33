// Who am I (conventions.md §1): the person a token belongs to, read-only. GET /v1/me and
// /v1/people/me answer the token's person; /v1/people/:id a person of the working account (404
// for any other, as for records); /v1/people/:id/teams the person's teams, [] while teams do not
// exist. Not a resource of the field catalogue: people are made by the command line only.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { Errors } from './errors.ts'
import { notModified, tag } from './etag.ts'
import { encodeNodeId, parseRecordId } from '../catalogue/node-id.ts'
import { formatDatetime } from '../catalogue/types.ts'
import { findPerson, type Person } from '../storage/people.ts'

const NODE_TYPE = 'Person'

const PersonSchema = Type.Object(
  {
    id: Type.Integer(),
    nodeID: Type.String({ description: 'global id, accepted wherever :id is' }),
    name: Type.String({ maxLength: 128 }),
    primary_email: Type.Union([Type.String({ format: 'email' }), Type.Null()]),
    account: Type.Object({ id: Type.String(), name: Type.String() }),
    disabled: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  {
    description: 'A person of the account; every token belongs to one',
    examples: [
      {
        id: 1,
        nodeID: 'bG9jYWxob3N0L1BlcnNvbi8x',
        name: 'Administrator',
        primary_email: null,
        account: { id: 'demo', name: 'Demo' },
        disabled: false,
        created_at: '2026-01-02T03:04:05Z',
        updated_at: '2026-01-02T03:04:05Z',
      },
    ],
  },
)

const ERROR = Type.Object({ message: Type.String() })
const responses = (ok: unknown) => ({
  200: ok,
  304: { description: 'Not Modified: If-None-Match names the current ETag', type: 'null' },
  401: { ...ERROR, description: 'Unauthorized: a missing, unknown or revoked token' },
  403: { ...ERROR, description: 'Forbidden: the account header names another account' },
  404: { ...ERROR, description: 'Not Found: no such person in the working account' },
})

export const people = fp(
  async (v1: FastifyInstance) => {
    const domain = v1.services.config.nodeIdDomain
    const database = v1.services.database

    function render(person: Person): string {
      return JSON.stringify({
        id: person.id,
        nodeID: encodeNodeId(domain, NODE_TYPE, person.id),
        name: person.name,
        primary_email: person.primaryEmail,
        account: { id: person.accountId, name: person.accountName },
        disabled: person.disabled,
        created_at: formatDatetime(person.createdAt),
        updated_at: formatDatetime(person.updatedAt),
      })
    }

    async function find(request: FastifyRequest, param: string): Promise<Person> {
      const id = param === 'me' ? request.auth.person.id : parseRecordId(domain, NODE_TYPE, param)
      const person = id === undefined ? undefined : await findPerson(database, request.auth.account.id, id)
      if (!person) throw Errors.notFound()
      return person
    }

    function answer(request: FastifyRequest, reply: FastifyReply, person: Person) {
      const body = render(person)
      if (notModified(request, tag(reply, body))) return reply.code(304).send()
      return reply.type('application/json; charset=utf-8').send(body)
    }

    const me = {
      schema: { tags: ['people'], summary: 'The person the token belongs to', response: responses(PersonSchema) },
    }
    v1.get('/me', me, async (request, reply) => answer(request, reply, await find(request, 'me')))
    v1.get('/people/me', me, async (request, reply) => answer(request, reply, await find(request, 'me')))
    v1.get<{ Params: { id: string } }>(
      '/people/:id',
      {
        schema: {
          tags: ['people'],
          summary: 'A person of the working account',
          params: Type.Object({ id: Type.String({ description: 'id, nodeID or `me`' }) }),
          response: responses(PersonSchema),
        },
      },
      async (request, reply) => answer(request, reply, await find(request, request.params.id)),
    )
    v1.get<{ Params: { id: string } }>(
      '/people/:id/teams',
      {
        schema: {
          tags: ['people'],
          summary: "The person's teams ([] while teams do not exist)",
          params: Type.Object({ id: Type.String({ description: 'id, nodeID or `me`' }) }),
          response: responses(Type.Array(Type.Object({ id: Type.Integer(), name: Type.String() }))),
        },
      },
      async (request) => {
        await find(request, request.params.id)
        return []
      },
    )
  },
  { name: 'people', dependencies: ['authentication'] },
)
