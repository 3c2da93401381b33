import cluster from 'node:cluster'
import { loadConfig } from '../config.ts'
import { createLogger } from '../logger.ts'
import { runPrimary } from './workers.ts'
import { startServer } from '../server.ts'
import { noMoreThan, parse } from './args.ts'
import { explainListenError, explainStartupError } from './startup-errors.ts'

export async function serveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { workers: { type: 'string' } })
  noMoreThan(positionals, 0, 'serve')
  const config = loadConfig(values.workers === undefined ? process.env : { ...process.env, WORKERS: values.workers as string })
  const logger = createLogger(config.logLevel)
  // The first-start banner (the demo token) goes to stderr, the terminal's stream: stdout is the
  // JSON log, which log shippers collect and which must never hold a token.
  if (config.workers > 1 && cluster.isPrimary) return explained(runPrimary(config, logger, process.stderr), config)
  const server = await explained(startServer(config, logger, process.stderr, { prepared: cluster.isWorker }), config)
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

/** A database that cannot be opened or reached, or a port taken, said naming the setting. */
async function explained<T>(starting: Promise<T>, config: { databaseUrl: string; host: string; port: number }): Promise<T> {
  try {
    return await starting
  } catch (error) {
    throw explainListenError(explainStartupError(error, config.databaseUrl), config.host, config.port)
  }
}
