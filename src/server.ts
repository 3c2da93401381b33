// Starting and stopping a server process: open and migrate the database, make sure a newcomer has
// an account and a token, listen, and stop cleanly: no new connections, requests in flight
// finished (for at most SHUTDOWN_TIMEOUT), then the database closed.
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { buildApp } from './app.ts'
import type { Config } from './config.ts'
import { countAccounts, createAccount } from './storage/accounts.ts'
import { openDatabase, type Database } from './storage/database.ts'
import { migrateToLatest, migrationsCurrent } from './storage/migrate.ts'
import { underStartupLock } from './platform/startup-lock.ts'
import { loadSecretKey } from './storage/settings.ts'
import { checkFileStore } from './storage/files/files.ts'
import { createToken } from './storage/tokens.ts'
import { startDeliveries, type DeliveryWorker } from './platform/webhooks/worker.ts'
import { keyPool } from './storage/signing-keys.ts'

export interface Running {
  app: FastifyInstance
  database: Database
  url: string
  close(): Promise<void>
}

export interface StartOptions {
  /** A worker of `serve --workers`: the primary has migrated and bootstrapped already. */
  prepared?: boolean
}

export async function startServer(
  config: Config,
  logger: Logger,
  out: NodeJS.WritableStream = process.stdout,
  options: StartOptions = {},
): Promise<Running> {
  // A statement may take as long as a request may (REQUEST_TIMEOUT), no longer.
  const database = openDatabase(config.databaseUrl, { statementTimeoutMs: config.requestTimeoutSeconds * 1000 })
  try {
    if (options.prepared) {
      if (!(await migrationsCurrent(database))) throw new Error('the database is not migrated to this version')
    } else {
      await underStartupLock(database, () => migrate(database, logger))
    }
    // A folder for uploads that cannot be written stops the start, naming ATTACHMENT_DIR.
    await checkFileStore(config.attachments)
    const secretKey = await loadSecretKey(database, config.secretKey)
    const app = await buildApp({ config, database, secretKey }, logger)
    const address = await app.listen({ port: config.port, host: config.host })
    const url = apiUrl(config, address)
    if (!options.prepared) await underStartupLock(database, () => bootstrap(database, url, out))
    // Webhook deliveries are sent from here too, unless a separate `app-offerings worker` does it.
    const worker = config.webhooks.inServer ? startDeliveries(database, config, logger, secretKey, url) : undefined
    logger.info({ url }, 'listening')
    return { app, database, url, close: () => stop(app, database, config, logger, worker) }
  } catch (error) {
    await database.close().catch(() => {})
    throw error
  }
}

export async function migrate(database: Database, logger: Logger): Promise<void> {
  const applied = await migrateToLatest(database)
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated')
}

/** The API's base URL as a client should use it. */
export function apiUrl(config: Config, address = `http://${config.host}:${config.port}`): string {
  return (config.publicUrl?.href.replace(/\/$/, '') ?? address.replace('[::1]', 'localhost')) + '/v1'
}

/**
 * Stops accepting, lets requests in flight finish, and after SHUTDOWN_TIMEOUT closes the
 * connections of those that have not; then closes the database.
 */
async function stop(app: FastifyInstance, database: Database, config: Config, logger: Logger, worker?: DeliveryWorker): Promise<void> {
  const force = setTimeout(() => {
    logger.warn('shutdown: closing the connections of requests still in flight')
    app.server.closeAllConnections()
  }, config.shutdownTimeoutSeconds * 1000).unref()
  try {
    await app.close()
    // Sends in flight finish (each within WEBHOOK_TIMEOUT); what is left waits in the outbox.
    await worker?.stop()
    await keyPool.settled()
  } finally {
    clearTimeout(force)
    await database.close()
  }
  logger.info('stopped: requests finished, database closed')
  logger.flush()
}

/**
 * On an empty database: an account `demo` and a write token for it, printed once to the
 * terminal (not the log) with a curl line to try.
 */
export async function bootstrap(database: Database, url: string, out: NodeJS.WritableStream): Promise<boolean> {
  if ((await countAccounts(database)) > 0) return false
  try {
    await createAccount(database, 'demo', 'Demo')
  } catch {
    return false // another process bootstrapped first
  }
  const { token } = await createToken(database, 'demo', { scope: 'write', name: 'first start' })
  out.write(
    [
      '',
      'First start: created the account "demo" and a write token for it.',
      'The token is shown only this once:',
      '',
      `  ${token}`,
      '',
      'Try it:',
      '',
      `  curl -H 'Authorization: Bearer ${token}' -H 'X-4me-Account: demo' ${url}/app_offerings`,
      '',
      '',
    ].join('\n'),
  )
  return true
}
