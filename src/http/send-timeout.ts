// A bound on how long an answer may take to leave (SEND_TIMEOUT): a client that asks for a large
// page and does not read it would otherwise keep the connection, and the unsent part of the answer
// in this process's memory, for as long as it likes. Once an answer larger than the socket buffers
// is handed to Node, its last byte must reach the kernel within SEND_TIMEOUT seconds; if not, the
// answer is abandoned and the socket destroyed, which releases what it held. Smaller answers go to
// the kernel at once and end normally, so they arm nothing.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

/** Answers below this many bytes (or characters) are written to the kernel in one go. */
export const SEND_TIMEOUT_THRESHOLD = 16 * 1024

export const sendTimeout = fp(
  async (app: FastifyInstance) => {
    const ms = app.services.config.sendTimeoutSeconds * 1000
    app.addHook('onSend', (request, reply, payload, done) => {
      done(null, payload)
      const size = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload.length : payload == null ? 0 : Infinity
      if (size < SEND_TIMEOUT_THRESHOLD) return
      const res = reply.raw
      const timer = setTimeout(() => {
        if (res.writableFinished || res.destroyed) return
        request.log.warn(
          { reqId: request.id, sendTimeoutSeconds: ms / 1000, unsentBytes: res.writableLength },
          'answer not read by the client within SEND_TIMEOUT: connection closed',
        )
        res.socket?.destroy()
        res.destroy()
      }, ms).unref()
      const clear = () => clearTimeout(timer)
      res.once('finish', clear)
      res.once('close', clear)
    })
  },
  { name: 'send-timeout' },
)
