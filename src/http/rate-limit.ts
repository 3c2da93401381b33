// Rate limits per token (conventions.md §9): a burst and an hourly window, the hourly one reported
// on every authenticated answer, 429 with Retry-After from the window that refuses. Every request
// whose token authenticates counts, whatever its answer: those admitted here, right after
// authentication, and those authentication itself refuses with a 403 for another account's header
// (that check comes before the limit, so they answer 403 but count, see auth.ts).
// GET /v1/rate_limit does not count and answers even while the token is refused.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { Errors } from './errors.ts'
import { openCounters, type Counters, type Tally } from '../platform/counters.ts'
import type { Config } from '../config.ts'

/** The counters every limit uses, on the root instance; closed with the server. */
export const counters = fp(
  async (app: FastifyInstance) => {
    const opened = await openCounters(app.services.config, app.log as never)
    app.decorate('counters', opened)
    app.addHook('onClose', () => opened.close())
  },
  { name: 'counters' },
)

const WindowReport = Type.Object({ context: Type.String(), limit: Type.Integer(), remaining: Type.Integer(), reset: Type.Integer() })

/** The windows of a configuration, in the order GET /v1/rate_limit reports them: burst, then hourly. */
function windowsOf(limits: Config['rateLimit']): { seconds: number[]; maxima: number[] } {
  return { seconds: [limits.burstSeconds, limits.hourlySeconds], maxima: [limits.burst, limits.hourly] }
}

/**
 * Counts one request of a token (or only looks, with `counting` false), puts the X-RateLimit-*
 * headers on the answer, and returns the seconds until a request is let through again when a
 * window refuses, else undefined. Rate limits must be enabled.
 */
export async function countRequest(
  counters: Counters,
  limits: Config['rateLimit'],
  reply: FastifyReply,
  tokenId: number,
  counting = true,
): Promise<number | undefined> {
  const { seconds, maxima } = windowsOf(limits)
  const key = `rate:${tokenId}`
  const tallies = counting ? await counters.hit(key, seconds) : await counters.peek(key, seconds)
  const hourly = tallies[1]
  reply.headers({
    'x-ratelimit-limit': limits.hourly,
    'x-ratelimit-remaining': Math.max(0, limits.hourly - hourly.count),
    'x-ratelimit-reset': Math.ceil(hourly.resetAt / 1000),
  })
  const refusing = tallies.filter((tally, i) => tally.count > maxima[i])
  return refusing.length > 0 ? Math.max(...refusing.map((t) => secondsUntil(t.resetAt))) : undefined
}

export const rateLimit = fp(
  async (app: FastifyInstance) => {
    const limits = app.services.config.rateLimit
    const { seconds, maxima } = windowsOf(limits)
    const open = (): Tally[] => seconds.map((s) => ({ count: 0, resetAt: Date.now() + s * 1000 }))

    if (limits.enabled) {
      app.addHook('onRequest', async (request, reply) => {
        if (!request.auth) return
        const uncounted = request.routeOptions.config.uncounted === true
        const retryAfter = await countRequest(app.counters, limits, reply, request.auth.tokenId, !uncounted)
        // An uncounted route (GET /v1/rate_limit) answers even while the token is refused.
        if (retryAfter !== undefined && !uncounted) throw Errors.tooManyRequests(retryAfter)
      })
    }

    app.get(
      '/rate_limit',
      {
        config: { uncounted: true },
        schema: {
          tags: ['rate limit'],
          summary: 'The token\'s rate limits, burst window first; this request does not count against them and answers while the token is refused',
          response: { 200: Type.Object({ resources: Type.Array(WindowReport) }) },
        },
      },
      async (request) => {
        const tallies = limits.enabled ? await app.counters.peek(`rate:${request.auth.tokenId}`, seconds) : open()
        return {
          // Both windows under the context "core", as the real API's documentation shows them.
          resources: tallies.map((tally, i) => ({
            context: 'core',
            limit: maxima[i],
            remaining: Math.max(0, maxima[i] - tally.count),
            reset: Math.ceil(tally.resetAt / 1000),
          })),
        }
      },
    )
  },
  { name: 'rate-limit', dependencies: ['counters', 'authentication'] },
)

/** Whole seconds until an epoch-ms instant, at least 1. */
export function secondsUntil(at: number): number {
  return Math.max(1, Math.ceil((at - Date.now()) / 1000))
}
