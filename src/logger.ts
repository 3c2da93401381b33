import pino, { type Logger } from 'pino'

// Lines are buffered up to this many bytes, and written at least this often, instead of a
// write(2) per request line. A killed process loses at most the buffer; one that exits flushes it.
const BUFFER_BYTES = 4096
const FLUSH_MS = 500

/** JSON logs on stdout (or `destination`); credentials never reach them. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const buffered = destination === undefined
  const logger = pino(
    {
      level,
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'token', '*.token'],
        censor: '[redacted]',
      },
      base: { pid: process.pid },
    },
    destination ?? pino.destination({ dest: 1, sync: false, minLength: BUFFER_BYTES }),
  )
  if (buffered) setInterval(() => logger.flush(), FLUSH_MS).unref()
  return logger
}
