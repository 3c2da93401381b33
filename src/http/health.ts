// Operational routes outside /v1, without a token: /healthz says the process answers, /readyz
// whether it can serve (database reachable, migrations current, writes not failing for a storage
// fault such as a full disk) and where rate limits are counted.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { migrationsCurrent } from '../storage/migrate.ts'

const RETRY_AFTER_SECONDS = 5
const tags = ['operations']

export const health = fp(
  async (app: FastifyInstance) => {
    const { database } = app.services

    app.get('/healthz', { schema: { tags, summary: 'The process is up', response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({
      status: 'ok' as const,
    }))

    const Readiness = Type.Object({
      status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
      database: Type.String({ description: '"ok", "unreachable", "migrations pending", or "writes failing: <cause>" during a storage fault (a full or read-only disk)' }),
      rate_limits: Type.String({ description: 'where rate limits are counted: "memory", "redis", or per process while Redis is unavailable' }),
    })
    app.get(
      '/readyz',
      { schema: { tags, summary: 'Whether the server can serve', response: { 200: Readiness, 503: Readiness } } },
      async (request, reply) => {
        let state = 'ok'
        try {
          if (!(await migrationsCurrent(database))) state = 'migrations pending'
        } catch (error) {
          request.log.warn({ err: error }, 'readiness: database unreachable')
          state = 'unreachable'
        }
        // A storage fault lasts until a write succeeds: try one (a server out of rotation gets none).
        if (state === 'ok' && app.storageHealth.fault() !== undefined) {
          await app.storageHealth.probe()
          const cause = app.storageHealth.fault()
          if (cause !== undefined) state = `writes failing: ${cause}`
        }
        const ready = state === 'ok'
        if (!ready) reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS))
        return { status: ready ? 'ready' : 'unavailable', database: state, rate_limits: app.counters.state() }
      },
    )
  },
  { name: 'health', dependencies: ['counters', 'error-handler'] },
)
