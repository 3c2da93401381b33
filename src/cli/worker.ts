// `app-offerings worker`: the webhook delivery worker alone, without the HTTP server (serve runs
// one in its process too, unless WEBHOOK_WORKER=false). Any number may run against one
// PostgreSQL; each delivery is sent by one of them (platform/webhooks/worker.ts).
import { loadConfig } from '../config.ts'
import { createLogger } from '../logger.ts'
import { issuerTemplate, startDeliveries } from '../platform/webhooks/worker.ts'
import { openDatabase } from '../storage/database.ts'
import { migrationsCurrent } from '../storage/migrate.ts'
import { loadSecretKey } from '../storage/settings.ts'
import { noMoreThan, parse } from './args.ts'
import { explainStartupError } from './startup-errors.ts'

export async function workerCommand(args: string[]): Promise<number> {
  const { positionals } = parse(args, {})
  noMoreThan(positionals, 0, 'worker')
  const config = loadConfig()
  const logger = createLogger(config.logLevel)
  const database = openDatabase(config.databaseUrl, { statementTimeoutMs: config.requestTimeoutSeconds * 1000 })
  try {
    let current: boolean
    try {
      current = await migrationsCurrent(database)
    } catch (error) {
      throw explainStartupError(error, config.databaseUrl)
    }
    if (!current) throw new Error('the database is not migrated to this version: run app-offerings migrate (or serve) first')
    const secretKey = await loadSecretKey(database, config.secretKey)
    // The issuer is the server's: PUBLIC_URL, or HOST:PORT as serve listens on them.
    const origin = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`
    const worker = startDeliveries(database, config, logger, secretKey, origin)
    logger.info({ issuer: issuerTemplate(config, origin) }, 'webhook worker started')
    // The worker's own timer does not hold the process (inside serve the server does): this does.
    const alive = setInterval(() => {}, 2 ** 30)
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', () => resolve())
      process.once('SIGINT', () => resolve())
    })
    clearInterval(alive)
    logger.info('webhook worker stopping: sends in flight finish')
    await worker.stop()
    logger.info('webhook worker stopped')
    logger.flush()
    return 0
  } finally {
    await database.close()
  }
}
