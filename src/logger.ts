import pino, { type Logger } from 'pino'

/** JSON logs on stdout; credentials never reach them. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'token', '*.token'],
        censor: '[redacted]',
      },
      base: { pid: process.pid },
    },
    destination,
  )
}
