// Bearer tokens and the working account (conventions.md §1). Runs first on every /v1 route:
// 401 for a missing or unknown token, 403 for an account header naming another account (counted
// against the token's limit, like every request that authenticates), and 429 for an address that
// keeps failing to authenticate.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Errors } from './errors.ts'
import { countRequest, secondsUntil } from './rate-limit.ts'
import { findTokenByHash, hashToken, touchToken, type TokenRecord } from '../storage/tokens.ts'
import { nowSeconds } from '../storage/database.ts'

// A revoked token keeps working in a running server for at most this long.
const CACHE_MS = 2000
const CACHE_ENTRIES = 10_000
const TOUCH_EVERY_SECONDS = 60
// The scheme name is case-insensitive (RFC 9110 §11.1; conventions.md §1): `bearer xyz` works.
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]{16,256}=*) *$/i
// After this many failures from one address in a minute, its failures answer 429 until the minute is over.
const FAILURES_ALLOWED = 20
const FAILURE_WINDOW_SECONDS = 60

export const authentication = fp(async (app: FastifyInstance) => {
  const { database, config } = app.services
  const cache = new Map<string, { token: TokenRecord | undefined; until: number }>()
  const touched = new Map<number, number>()

  /** The token with this hash: from the cache while it is fresh (no promise), else from the database. */
  function lookup(hash: string): TokenRecord | undefined | Promise<TokenRecord | undefined> {
    const now = Date.now()
    const hit = cache.get(hash)
    if (hit && hit.until > now) return hit.token
    return findTokenByHash(database, hash).then((token) => {
      if (cache.size >= CACHE_ENTRIES) cache.clear()
      cache.set(hash, { token, until: now + CACHE_MS })
      return token
    })
  }

  function touch(request: FastifyRequest, token: TokenRecord): void {
    const now = nowSeconds()
    if ((touched.get(token.id) ?? 0) + TOUCH_EVERY_SECONDS > now) return
    touched.set(token.id, now)
    touchToken(database, token.id, now).catch((error) => request.log.warn({ err: error }, 'could not record token use'))
  }

  async function refuse(request: FastifyRequest): Promise<never> {
    if (config.rateLimit.enabled) {
      const [failures] = await app.counters.hit(`auth-failures:${request.ip}`, [FAILURE_WINDOW_SECONDS])
      if (failures.count > FAILURES_ALLOWED) throw Errors.tooManyRequests(secondsUntil(failures.resetAt))
    }
    throw Errors.unauthorized()
  }

  /**
   * The token authenticated, so the request counts against its limit (conventions.md §9), but
   * the account header is checked before the limit: the answer is the 403 either way.
   */
  async function forbid(reply: FastifyReply, token: TokenRecord): Promise<never> {
    if (config.rateLimit.enabled) await countRequest(app.counters, config.rateLimit, reply, token.id)
    throw Errors.forbidden()
  }

  app.decorateRequest('auth', null as never)
  /** Sets request.auth, or ends the request with the answer's error. */
  function settle(request: FastifyRequest, reply: FastifyReply, token: TokenRecord | undefined, done: (error?: Error) => void): void {
    if (!token) return void refuse(request).catch(done)
    const named = header(request, 'x-xurrent-account') ?? header(request, 'x-4me-account')
    if (named !== undefined && named !== token.accountId) return void forbid(reply, token).then(done, done)
    request.auth = {
      tokenId: token.id,
      scope: token.scope,
      account: { id: token.accountId, name: token.accountName },
      person: { id: token.personId, name: token.personName },
    }
    touch(request, token)
    done()
  }

  // A callback hook: a cached token is admitted without a promise.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.config.public) return done()
    const match = BEARER.exec(request.headers.authorization ?? '')
    const found = match ? lookup(hashToken(match[1])) : undefined
    if (found instanceof Promise) found.then((token) => settle(request, reply, token, done), done)
    else settle(request, reply, found, done)
  })
}, { name: 'authentication', dependencies: ['counters'] })

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name]
  const text = Array.isArray(value) ? value[0] : value
  return text === undefined || text.trim() === '' ? undefined : text.trim()
}

/** Writes need a write token; checked after the record is found (404 before 403). */
export function requireWrite(request: FastifyRequest): void {
  if (request.auth.scope !== 'write') throw Errors.forbidden()
}
