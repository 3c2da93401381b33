// Where a receiver finds the keys that sign deliveries (lifecycle.md, "App instances" and OpenID
// Connect Discovery): a policy's key set for its owner (`/v1/webhook_policies/:id/jwks`), the
// public key set of an issuer account (`/v1/accounts/<account>/jwks.json`), and, for the
// default issuer template, the issuer's discovery document
// (`/accounts/<account>/.well-known/openid-configuration`). The key sets list every key of every
// policy until the policy is deleted, each with `kid`, `alg` and `use: "sig"`; never a private key.
import type { FastifyInstance, FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { parseRecordId } from '../catalogue/node-id.ts'
import { Errors } from '../errors.ts'
import { issuerOf, issuerTemplate } from '../platform/webhooks/sign.ts'
import { KEYS_TABLE } from '../resources/webhook-policies/rules.ts'
import { ACCOUNT_ID } from '../storage/accounts.ts'
import { baseUrl } from './urls.ts'

const Jwk = Type.Object({ kty: Type.String(), kid: Type.String(), alg: Type.String(), use: Type.Literal('sig') }, { additionalProperties: true })
const Jwks = Type.Object({ keys: Type.Array(Jwk) }, { description: 'A JSON Web Key Set (RFC 7517)' })
const AccountParams = Type.Object({ account: Type.String({ description: 'the issuer account id' }) })
const tags = ['webhook_policies']
// Keys change when a policy is made or deleted: a receiver may keep a set for a few minutes.
const CACHE = 'public, max-age=300'

/** Key sets under /v1 (the policy's needs a token; the account's is public). */
export async function jwksRoutes(v1: FastifyInstance): Promise<void> {
  const db = v1.services.database.db
  const { config } = v1.services

  const keySet = async (where: { policy?: number; issuer?: string }) => {
    let query = db.selectFrom(KEYS_TABLE as never).select('public_jwk' as never).orderBy('id' as never)
    if (where.policy !== undefined) query = query.where('policy_id' as never, '=', where.policy as never)
    if (where.issuer !== undefined) query = query.where('issuer_account' as never, '=', where.issuer as never)
    const rows = (await query.execute()) as Array<{ public_jwk: string }>
    return { keys: rows.map((row) => JSON.parse(row.public_jwk)) }
  }

  v1.get<{ Params: { id: string } }>(
    '/webhook_policies/:id/jwks',
    { schema: { tags, summary: "A webhook policy's public keys (JWKS)", params: Type.Object({ id: Type.String({ description: 'The policy id, or its nodeID' }) }), response: { 200: Jwks } } },
    async (request, reply) => {
      const id = parseRecordId(config.nodeIdDomain, 'WebhookPolicy', request.params.id)
      const owned =
        id !== undefined &&
        (await db
          .selectFrom('webhook_policies' as never)
          .select('id' as never)
          .where('account_id' as never, '=', request.auth.account.id as never)
          .where('id' as never, '=', id as never)
          .executeTakeFirst())
      if (!owned) throw Errors.notFound()
      return json(reply, await keySet({ policy: id }))
    },
  )

  v1.get<{ Params: { account: string } }>(
    '/accounts/:account/jwks',
    { config: { public: true }, schema: { tags, summary: "The public keys that sign an issuer account's webhook deliveries (JWKS; also as jwks.json)", security: [], params: AccountParams, response: { 200: Jwks } } },
    async (request, reply) => {
      // Any account id answers a set (an unknown one, an empty set): the answer says nothing of who exists.
      if (!ACCOUNT_ID.test(request.params.account)) throw Errors.notFound()
      return json(reply.header('cache-control', CACHE), await keySet({ issuer: request.params.account }))
    },
  )
}

/** The issuer's discovery document, at the root (the issuer is `<base>/accounts/<account>`). */
export async function discoveryRoutes(app: FastifyInstance): Promise<void> {
  const { config } = app.services
  app.get<{ Params: { account: string } }>(
    '/accounts/:account/.well-known/openid-configuration',
    { schema: { tags, summary: "An issuer account's OpenID Connect discovery document (the default WEBHOOK_ISSUER)", params: AccountParams } },
    async (request, reply) => {
      const base = baseUrl(request)
      const issuer = issuerOf(issuerTemplate(config, base), request.params.account)
      // With another WEBHOOK_ISSUER the document is that host's to serve, not this server's.
      if (!ACCOUNT_ID.test(request.params.account) || issuer !== `${base}/accounts/${request.params.account}`) throw Errors.notFound()
      return json(reply.header('cache-control', CACHE), {
        issuer,
        jwks_uri: `${base}/v1/accounts/${request.params.account}/jwks.json`,
        // Required by OpenID Connect Discovery 1.0; what these issuers sign is webhook deliveries.
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'],
      })
    },
  )
}

function json(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(JSON.stringify(body))
}
