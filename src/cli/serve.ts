import cluster from 'node:cluster'
import { loadConfig } from '../config.ts'
import { createLogger } from '../logger.ts'
import { runPrimary } from './workers.ts'
import { startServer } from '../server.ts'
import { parse } from './args.ts'

export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { workers: { type: 'string' } })
  const config = loadConfig(values.workers === undefined ? process.env : { ...process.env, WORKERS: values.workers as string })
  const logger = createLogger(config.logLevel)
  if (config.workers > 1 && cluster.isPrimary) return runPrimary(config, logger)

  const server = await startServer(config, logger, process.stdout, { prepared: cluster.isWorker })
  await new Promise<void>((resolve) => {
    let stopping = false
    const stop = (signal: string) => {
      // A second signal (Ctrl-C reaches a worker from the terminal and from its primary) must
      // not kill the process while it finishes its requests.
      if (stopping) return
      stopping = true
      logger.info({ signal }, 'shutting down')
      server.close().then(resolve, (error) => {
        logger.error({ err: error }, 'shutdown failed')
        resolve()
      })
    }
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
  })
  // A worker's channel to its primary would keep the process alive.
  cluster.worker?.disconnect()
  return 0
}
