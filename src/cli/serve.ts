import { loadConfig } from '../config.ts'
import { createLogger } from '../logger.ts'
import { startServer } from '../server.ts'
import { parse, UsageError } from './args.ts'

export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { workers: { type: 'string' } })
  const config = loadConfig(values.workers === undefined ? process.env : { ...process.env, WORKERS: values.workers as string })
  if (config.workers > 1) throw new UsageError('WORKERS: more than one worker needs PostgreSQL and REDIS_URL, and is not available yet')
  const logger = createLogger(config.logLevel)
  const server = await startServer(config, logger)
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down')
      server.close().then(resolve, (error) => {
        logger.error({ err: error }, 'shutdown failed')
        resolve()
      })
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
  return 0
}
