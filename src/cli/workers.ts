// `serve --workers N`: N processes sharing the port (node:cluster). The primary prepares the
// database once (migrations, first-start bootstrap, under the startup lock), then forks the
// workers, replaces one that dies, and on SIGTERM/SIGINT stops them all and waits for them.
import cluster, { type Worker } from 'node:cluster'
import type { Logger } from 'pino'
import type { Config } from '../config.ts'
import { apiUrl, bootstrap, migrate } from '../server.ts'
import { openDatabase } from '../storage/database.ts'
import { loadSecretKey } from '../storage/settings.ts'
import { underStartupLock } from '../platform/startup-lock.ts'

export async function runPrimary(config: Config, logger: Logger, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const database = openDatabase(config.databaseUrl)
  try {
    await underStartupLock(database, async () => {
      await migrate(database, logger)
      await loadSecretKey(database, config.secretKey)
      await bootstrap(database, apiUrl(config), out)
    })
  } finally {
    await database.close()
  }

  let stopping = false
  const fork = (): Worker => cluster.fork()
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return
    logger.error({ worker: worker.process.pid, code, signal }, 'worker died: starting another')
    fork()
  })
  for (let i = 0; i < config.workers; i++) fork()
  logger.info({ workers: config.workers, url: apiUrl(config) }, 'primary started')

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      if (stopping) return
      stopping = true
      logger.info({ signal }, 'stopping workers')
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM')
      const check = () => {
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve()
      }
      cluster.on('exit', check)
      check()
    }
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
  })
  logger.info('all workers stopped')
  return 0
}
