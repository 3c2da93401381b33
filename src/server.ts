// Starting and stopping a server process: open and migrate the database, make sure a newcomer has
// an account and a token, listen, and shut down cleanly on SIGTERM/SIGINT.
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { buildApp } from './app.ts'
import type { Config } from './config.ts'
import { countAccounts, createAccount } from './storage/accounts.ts'
import { openDatabase, type Database } from './storage/database.ts'
import { migrateToLatest } from './storage/migrate.ts'
import { loadSecretKey } from './storage/settings.ts'
import { createToken } from './storage/tokens.ts'

export interface Running {
  app: FastifyInstance
  database: Database
  url: string
  close(): Promise<void>
}

export async function startServer(config: Config, logger: Logger, out: NodeJS.WritableStream = process.stdout): Promise<Running> {
  const database = openDatabase(config.databaseUrl)
  try {
    const applied = await migrateToLatest(database)
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated')
    const secretKey = await loadSecretKey(database, config.secretKey)
    const app = await buildApp({ config, database, secretKey }, logger)
    const address = await app.listen({ port: config.port, host: config.host })
    const url = (config.publicUrl?.href.replace(/\/$/, '') ?? address.replace('[::1]', 'localhost')) + '/v1'
    await bootstrap(database, url, out)
    logger.info({ url }, 'listening')
    return {
      app,
      database,
      url,
      async close() {
        await app.close()
        await database.close()
      },
    }
  } catch (error) {
    await database.close().catch(() => {})
    throw error
  }
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
