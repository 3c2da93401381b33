// Bearer tokens and the working account (conventions.md §1). Runs first on every /v1 route:
// 401 for a missing or unknown token, 403 for an account header naming another account.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Errors } from './errors.ts'
import { findTokenByHash, hashToken, touchToken, type TokenRecord } from '../storage/tokens.ts'
import { nowSeconds } from '../storage/database.ts'

// A revoked token keeps working in a running server for at most this long.
const CACHE_MS = 2000
const CACHE_ENTRIES = 10_000
const TOUCH_EVERY_SECONDS = 60
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]{16,256}=*) *$/

export function authentication(app: FastifyInstance): void {
  const { database } = app.services
  const cache = new Map<string, { token: TokenRecord | undefined; until: number }>()
  const touched = new Map<number, number>()

  async function lookup(hash: string): Promise<TokenRecord | undefined> {
    const now = Date.now()
    const hit = cache.get(hash)
    if (hit && hit.until > now) return hit.token
    const token = await findTokenByHash(database, hash)
    if (cache.size >= CACHE_ENTRIES) cache.clear()
    cache.set(hash, { token, until: now + CACHE_MS })
    return token
  }

  function touch(request: FastifyRequest, token: TokenRecord): void {
    const now = nowSeconds()
    if ((touched.get(token.id) ?? 0) + TOUCH_EVERY_SECONDS > now) return
    touched.set(token.id, now)
    touchToken(database, token.id, now).catch((error) => request.log.warn({ err: error }, 'could not record token use'))
  }

  app.decorateRequest('auth', null as never)
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.public) return
    const match = BEARER.exec(request.headers.authorization ?? '')
    if (!match) throw Errors.unauthorized()
    const token = await lookup(hashToken(match[1]))
    if (!token) throw Errors.unauthorized()
    const named = header(request, 'x-xurrent-account') ?? header(request, 'x-4me-account')
    if (named !== undefined && named !== token.accountId) throw Errors.forbidden()
    request.auth = { tokenId: token.id, scope: token.scope, account: { id: token.accountId, name: token.accountName } }
    touch(request, token)
  })
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name]
  const text = Array.isArray(value) ? value[0] : value
  return text === undefined || text.trim() === '' ? undefined : text.trim()
}

/** Writes need a write token; checked after the record is found (404 before 403). */
export function requireWrite(request: FastifyRequest): void {
  if (request.auth.scope !== 'write') throw Errors.forbidden()
}
