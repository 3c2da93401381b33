// An app on a fresh store, with helpers to make accounts and tokens and to call the API the way
// a client does (app.inject: no port, same code path).
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before } from 'node:test'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import pino from 'pino'
import { buildApp } from '../../src/app.ts'
import { loadConfig, type Config } from '../../src/config.ts'
import { createAccount } from '../../src/storage/accounts.ts'
import type { Database, Engine } from '../../src/storage/database.ts'
import { migrateToLatest } from '../../src/storage/migrate.ts'
import { createToken, type Scope } from '../../src/storage/tokens.ts'
import { freshStore, type TestStore } from './stores.ts'

export interface Harness {
  engine: Engine
  app: FastifyInstance
  database: Database
  store: TestStore
  config: Config
  /** The folder of the local attachment store (a temporary one unless ATTACHMENT_DIR is given). */
  filesDir: string
  /** A new account with a write token (and a read token). */
  account(name?: string): Promise<TestAccount>
}

export interface TestAccount {
  id: string
  token: string
  readToken: string
  /** Calls the API as this account's write token. */
  call(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>
}

export function uniqueId(prefix = 'a'): string {
  return `${prefix}${randomBytes(5).toString('hex')}`
}

export async function startHarness(engine: Engine, env: Record<string, string> = {}): Promise<Harness> {
  const store = await freshStore(engine)
  const database = store.open()
  await migrateToLatest(database)
  // Uploaded files never land in the repository: a folder of the test's own.
  const filesDir = env.ATTACHMENT_DIR ?? mkdtempSync(join(tmpdir(), 'app-offerings-files-'))
  // Every answer is kept from its first request (RESULT_CACHE_AFTER=1): a kept answer is what
  // could go stale, so the suites check freshness on the harsher setting.
  const config = loadConfig({ RATE_LIMIT: 'off', LOG_LEVEL: 'silent', SECRET_KEY: 'test-secret-key-0123456789abcdefghij', RESULT_CACHE_AFTER: '1', ATTACHMENT_DIR: filesDir, ...env })
  const app = await buildApp({ config, database, secretKey: config.secretKey! }, pino({ level: 'silent' }))
  await app.ready()
  return {
    engine,
    app,
    database,
    store,
    config,
    filesDir,
    async account(name = 'Test account') {
      const id = uniqueId()
      await createAccount(database, id, name)
      const { token } = await createToken(database, id, { scope: 'write' })
      const { token: readToken } = await createToken(database, id, { scope: 'read' as Scope })
      return {
        id,
        token,
        readToken,
        call: (method, url, body, headers = {}) => request(app, method, url, body, { authorization: `Bearer ${token}`, ...headers }),
      }
    },
  }
}

export async function stopHarness(h: Harness): Promise<void> {
  await h.app.close()
  await h.database.close()
  await h.store.drop()
  rmSync(h.filesDir, { recursive: true, force: true })
}

/**
 * Another server process on the harness's database, as a second app over its own connection
 * (`database`, a fresh one by default) with its own kept results; the connection closes with it.
 */
export async function secondApp(h: Harness, database: Database = h.store.open()): Promise<FastifyInstance> {
  const app = await buildApp({ config: h.config, database, secretKey: h.config.secretKey! }, pino({ level: 'silent' }))
  app.addHook('onClose', () => database.close())
  await app.ready()
  return app
}

/** A harness for the enclosing describe(): started before its tests, stopped after. */
export function useHarness(engine: Engine, env: Record<string, string> = {}): () => Harness {
  let harness: Harness | undefined
  before(async () => {
    harness = await startHarness(engine, env)
  })
  after(async () => {
    if (harness) await stopHarness(harness)
  })
  return () => harness!
}

export function request(
  app: FastifyInstance,
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  const options: InjectOptions = { method: method as InjectOptions['method'], url, headers: { ...headers } }
  if (body !== undefined) {
    options.payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body)
    options.headers = { 'content-type': 'application/json', ...headers }
  }
  return app.inject(options)
}
