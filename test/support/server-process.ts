// Real server processes for the tests that need a wire and a process to kill: `bin/app-offerings.js
// serve` on a free loopback port, over a store from stores.ts, with its output kept for reading.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { Pool, type Dispatcher } from 'undici'
import { createAccount } from '../../src/storage/accounts.ts'
import { migrateToLatest } from '../../src/storage/migrate.ts'
import { createToken, revokeToken } from '../../src/storage/tokens.ts'
import { uniqueId } from './harness.ts'
import type { TestStore } from './stores.ts'
import { command } from './command.ts'

const START_DEADLINE_MS = 60_000

export interface ServerProcess {
  /** http://127.0.0.1:<port> */
  origin: string
  child: ChildProcess
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string
  /** SIGTERM, and the exit code once it is gone. */
  stop(): Promise<number | null>
  /** SIGKILL: no shutdown, no flush, as a crash or the OOM killer would. */
  kill(): Promise<void>
}

/**
 * Starts a server on `databaseUrl` and resolves once it answers `GET /v1`. Rate limits are off
 * and the log level is warn unless `env` says otherwise.
 */
export async function spawnServer(databaseUrl: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    try {
      return await startOn(port, databaseUrl, env)
    } catch (error) {
      // Another process may take the port between freePort() and listen(): try another one.
      if (attempt < 3 && /EADDRINUSE/.test((error as Error).message)) continue
      throw error
    }
  }
}

async function startOn(port: number, databaseUrl: string, env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, [command(), 'serve'], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      RATE_LIMIT: 'off',
      LOG_LEVEL: 'warn',
      SECRET_KEY: 'reliability-secret-key-0123456789abcdef',
      // Answers kept from their first request, as in the harness (test/support/harness.ts).
      RESULT_CACHE_AFTER: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const origin = `http://127.0.0.1:${port}`
  const { process: watched, gone } = watch(child)
  const server: ServerProcess = { origin, ...watched }

  const deadline = Date.now() + START_DEADLINE_MS
  while (!gone()) {
    if (await answers(origin)) return server
    if (Date.now() > deadline) {
      await server.kill()
      throw new Error(`server did not start within ${START_DEADLINE_MS} ms:\n${server.output()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await server.stop()
  throw new Error(`server exited before listening:\n${server.output()}`)
}

/** A spawned command's output, kept for reading, and the two ways to end it. */
function watch(child: ChildProcess): { process: Omit<ServerProcess, 'origin'>; gone: () => boolean } {
  let output = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>
  let gone = false
  void exited.then(() => (gone = true))
  return {
    gone: () => gone,
    process: {
      child,
      output: () => output,
      async stop() {
        if (!gone) child.kill('SIGTERM')
        return (await exited)[0]
      },
      async kill() {
        if (!gone) child.kill('SIGKILL')
        await exited
      },
    },
  }
}

async function answers(origin: string): Promise<boolean> {
  try {
    const res = await fetch(`${origin}/v1`, { signal: AbortSignal.timeout(2000) })
    await res.arrayBuffer()
    return res.status === 200
  } catch {
    return false
  }
}

async function freePort(): Promise<number> {
  const probe = createServer()
  probe.listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const { port } = probe.address() as { port: number }
  probe.close()
  await once(probe, 'close')
  return port
}

/** A PostgreSQL URL whose connections carry `name`, so a test can kill exactly those. */
export function withApplicationName(url: string, name: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}application_name=${encodeURIComponent(name)}`
}

export interface Tenant {
  id: string
  name: string
  token: string
  readToken: string
  /** A write token that was revoked before the server started. */
  revokedToken: string
}

/** Migrates the store and adds accounts with their tokens, straight through storage. */
export async function provision(store: TestStore, count: number): Promise<Tenant[]> {
  const database = store.open()
  try {
    await migrateToLatest(database)
    const tenants: Tenant[] = []
    for (let i = 0; i < count; i++) {
      const id = uniqueId()
      const name = `Tenant ${id}`
      await createAccount(database, id, name)
      const { token } = await createToken(database, id, { scope: 'write' })
      const { token: readToken } = await createToken(database, id, { scope: 'read' })
      const revoked = await createToken(database, id, { scope: 'write' })
      await revokeToken(database, revoked.id)
      tenants.push({ id, name, token, readToken, revokedToken: revoked.token })
    }
    return tenants
  } finally {
    await database.close()
  }
}

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json(): any
}

/** An HTTP client over a bounded pool of keep-alive connections to one server. */
export class Client {
  readonly pool: Pool

  constructor(
    origin: string,
    readonly token?: string,
    connections = 16,
  ) {
    this.pool = new Pool(origin, { connections, pipelining: 1 })
  }

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await this.pool.request({
      method: method as Dispatcher.HttpMethod,
      path,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    })
    const text = await res.body.text()
    return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) }
  }

  close(): Promise<void> {
    return this.pool.destroy()
  }
}

/** `app-offerings worker` on `databaseUrl`, resolved once it says it started; stop/kill as a server's. */
export async function spawnWorker(databaseUrl: string, env: Record<string, string> = {}): Promise<Omit<ServerProcess, 'origin'>> {
  const child = spawn(process.execPath, [command(), 'worker'], {
    env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, LOG_LEVEL: 'info', SECRET_KEY: 'reliability-secret-key-0123456789abcdef', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const { process: worker, gone } = watch(child)
  const deadline = Date.now() + START_DEADLINE_MS
  while (!worker.output().includes('webhook worker started')) {
    if (gone()) throw new Error(`worker exited before starting:\n${worker.output()}`)
    if (Date.now() > deadline) throw new Error(`worker did not start within ${START_DEADLINE_MS} ms:\n${worker.output()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return worker
}
