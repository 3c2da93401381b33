// Rate limits per token (conventions.md §9): an hourly and a burst window, reported on every
// authenticated answer, 429 with Retry-After from the window that refuses. Runs right after
// authentication, so every request that authenticates counts, whatever its answer.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { Errors } from './errors.ts'
import { openCounters, type Tally } from '../platform/counters.ts'

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

export const rateLimit = fp(
  async (app: FastifyInstance) => {
    const limits = app.services.config.rateLimit
    const windows = [limits.hourlySeconds, limits.burstSeconds]
    const maxima = [limits.hourly, limits.burst]
    const open = (): Tally[] => windows.map((seconds) => ({ count: 0, resetAt: Date.now() + seconds * 1000 }))

    if (limits.enabled) {
      app.addHook('onRequest', async (request, reply) => {
        if (!request.auth) return
        const key = `rate:${request.auth.tokenId}`
        const tallies = request.routeOptions.config.uncounted ? await app.counters.peek(key, windows) : await app.counters.hit(key, windows)
        report(reply, tallies)
        const refusing = tallies.filter((tally, i) => tally.count > maxima[i])
        if (refusing.length > 0) throw Errors.tooManyRequests(Math.max(...refusing.map((t) => secondsUntil(t.resetAt))))
      })
    }

    /** X-RateLimit-* describe the hourly window. */
    function report(reply: FastifyReply, [hourly]: Tally[]): void {
      reply.headers({
        'x-ratelimit-limit': limits.hourly,
        'x-ratelimit-remaining': Math.max(0, limits.hourly - hourly.count),
        'x-ratelimit-reset': Math.ceil(hourly.resetAt / 1000),
      })
    }

    app.get(
      '/rate_limit',
      {
        config: { uncounted: true },
        schema: {
          tags: ['rate limit'],
          summary: 'The token\'s rate limits; this request does not count against them',
          response: { 200: Type.Object({ resources: Type.Array(WindowReport) }) },
        },
      },
      async (request) => {
        const tallies = limits.enabled ? await app.counters.peek(`rate:${request.auth.tokenId}`, windows) : open()
        return {
          resources: ['core', 'core-burst'].map((context, i) => ({
            context,
            limit: maxima[i],
            remaining: Math.max(0, maxima[i] - tallies[i].count),
            reset: Math.ceil(tallies[i].resetAt / 1000),
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
