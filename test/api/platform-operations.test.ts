import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import pino from 'pino'
import { request as httpRequest } from 'undici'
import { buildApp } from '../../src/app.ts'
import { ConfigError, loadConfig } from '../../src/config.ts'
import { createLogger } from '../../src/logger.ts'
import { createAccount } from '../../src/storage/accounts.ts'
import { checkFileStore } from '../../src/storage/files/files.ts'
import { openDatabase } from '../../src/storage/database.ts'
import { migrateToLatest } from '../../src/storage/migrate.ts'
import { createToken } from '../../src/storage/tokens.ts'
import { freshStore, engines, type TestStore } from '../support/stores.ts'
import { request, useHarness } from '../support/harness.ts'
import { tcpProxy, type TcpProxy } from '../support/tcp-proxy.ts'

const V1_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'" }

for (const engine of engines) {
  describe(`operations (${engine})`, () => {
    const h = useHarness(engine, { BODY_LIMIT: '2kb' })

    it('answers /healthz and /readyz without a token', async () => {
      assert.deepEqual((await request(h().app, 'GET', '/healthz')).json(), { status: 'ok' })
      const ready = await request(h().app, 'GET', '/readyz')
      assert.equal(ready.statusCode, 200)
      assert.deepEqual(ready.json(), { status: 'ready', database: 'ok', rate_limits: 'memory' })
    })

    it('puts the security headers and a request id on every /v1 answer, errors included', async () => {
      const account = await h().account()
      const answers = [
        await account.call('GET', '/v1/app_offerings'),
        await account.call('GET', '/v1/app_offerings/999999'),
        await request(h().app, 'GET', '/v1/app_offerings'),
        await request(h().app, 'GET', '/v1'),
        await account.call('DELETE', '/v1/app_offerings/1'),
      ]
      for (const res of answers) {
        for (const [name, value] of Object.entries(V1_HEADERS)) assert.equal(res.headers[name], value, `${name} on a ${res.statusCode}`)
        assert.match(res.headers['x-request-id'] as string, /^[0-9a-f-]{36}$/)
      }
      const echoed = await account.call('GET', '/v1', undefined, { 'x-request-id': 'abc-123' })
      assert.equal(echoed.headers['x-request-id'], 'abc-123')
    })

    it('answers 413 past BODY_LIMIT and 415 for bodies that are not JSON', async () => {
      const account = await h().account()
      const big = await account.call('POST', '/v1/service_instances', { name: 'x'.repeat(4000) })
      assert.equal(big.statusCode, 413)
      assert.deepEqual(big.json(), { message: 'Payload Too Large' })
      const form = await account.call('POST', '/v1/service_instances', 'name=Mail', { 'content-type': 'application/x-www-form-urlencoded' })
      assert.equal(form.statusCode, 415)
      assert.deepEqual(form.json(), { message: 'Unsupported Media Type' })
      const text = await account.call('PATCH', '/v1/service_instances/1', 'hello', { 'content-type': 'text/plain' })
      assert.equal(text.statusCode, 415)
    })

    it('sends no CORS headers unless CORS_ORIGINS allows', async () => {
      const res = await request(h().app, 'GET', '/v1', undefined, { origin: 'https://app.example.com' })
      assert.equal(res.headers['access-control-allow-origin'], undefined)
      const preflight = await request(h().app, 'OPTIONS', '/v1/app_offerings', undefined, {
        origin: 'https://app.example.com',
        'access-control-request-method': 'GET',
      })
      assert.equal(preflight.headers['access-control-allow-origin'], undefined)
    })
  })

  describe(`CORS_ORIGINS (${engine})`, () => {
    const h = useHarness(engine, { CORS_ORIGINS: 'https://app.example.com' })

    it('answers the preflight without a token and allows only the listed origin', async () => {
      const preflight = await request(h().app, 'OPTIONS', '/v1/app_offerings/12', undefined, {
        origin: 'https://app.example.com',
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'authorization, x-4me-account, if-match',
      })
      assert.equal(preflight.statusCode, 204)
      assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example.com')
      assert.match(preflight.headers['access-control-allow-methods'] as string, /PATCH/)
      assert.match(preflight.headers['access-control-allow-headers'] as string, /if-match/)

      const account = await h().account()
      const allowed = await account.call('GET', '/v1/app_offerings', undefined, { origin: 'https://app.example.com' })
      assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.example.com')
      assert.match(allowed.headers['access-control-expose-headers'] as string, /link/)
      const other = await account.call('GET', '/v1/app_offerings', undefined, { origin: 'https://evil.example.com' })
      assert.equal(other.headers['access-control-allow-origin'], undefined)
    })
  })

  describe(`request log (${engine})`, () => {
    const h = useHarness(engine)
    const lines: Array<Record<string, unknown>> = []
    let text = ''
    let app: Awaited<ReturnType<typeof buildApp>>
    before(async () => {
      const sink = new Writable({
        write(chunk, _encoding, done) {
          text += chunk
          for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line))
          done()
        },
      })
      app = await buildApp({ config: h().config, database: h().database, secretKey: h().config.secretKey! }, createLogger('info', sink))
      await app.ready()
    })
    after(async () => app.close())

    it('writes one line per request with id, account, token id, route, status and duration, never the token', async () => {
      const account = await h().account()
      const headers = { authorization: `Bearer ${account.token}`, 'x-request-id': 'log-test-1' }
      await request(app, 'GET', '/v1/app_offerings?per_page=5', undefined, headers)
      await request(app, 'GET', '/v1/app_offerings', undefined, { authorization: 'Bearer ao_wrong-token-wrong-token-wrong', 'x-request-id': 'log-test-2' })
      const [ok] = lines.filter((l) => l.reqId === 'log-test-1')
      assert.equal(lines.filter((l) => l.reqId === 'log-test-1').length, 1)
      assert.equal(ok.account, account.id)
      assert.equal(typeof ok.tokenId, 'number')
      assert.equal(ok.route, '/v1/app_offerings')
      assert.equal(ok.status, 200)
      assert.equal(typeof ok.ms, 'number')
      assert.equal(lines.find((l) => l.reqId === 'log-test-2')?.status, 401)
      assert.ok(!text.includes(account.token), 'the token is not in the log')
      assert.ok(!text.includes('wrong-token'), 'nor a wrong one')
    })

    it('redacts secrets in anything logged', () => {
      let out = ''
      const logger = createLogger('info', { write: (s: string) => (out += s) } as never)
      logger.info({ token: 'ao_secret1', req: { headers: { authorization: 'Bearer ao_secret2' } }, account: { token: 'ao_secret3' } }, 'x')
      assert.doesNotMatch(out, /ao_secret/)
      assert.match(out, /\[redacted\]/)
    })
  })
}

describe('configuration', () => {
  it('stops on a wrong value with one line naming the variable', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ BODY_LIMIT: 'lots' }, 'BODY_LIMIT'],
      [{ RATE_LIMIT: 'maybe' }, 'RATE_LIMIT'],
      [{ RATE_LIMIT_BURST: '0' }, 'RATE_LIMIT_BURST'],
      [{ REDIS_URL: 'http://localhost' }, 'REDIS_URL'],
      [{ CORS_ORIGINS: 'not a url' }, 'CORS_ORIGINS'],
      [{ REQUEST_TIMEOUT: '-1' }, 'REQUEST_TIMEOUT'],
      [{ WORKERS: '2' }, 'WORKERS'],
      [{ WORKERS: '2', DATABASE_URL: 'postgres://localhost/x' }, 'WORKERS'],
      [{ TRUST_PROXY: 'maybe' }, 'TRUST_PROXY'],
      [{ TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY'],
      [{ TRUST_PROXY: '10.0.0.1, proxy.example.com' }, 'TRUST_PROXY'],
      [{ RESULT_CACHE_AFTER: '3' }, 'RESULT_CACHE_AFTER'],
      [{ WEBHOOK_ISSUER: 'ftp://{account}.example.com' }, 'WEBHOOK_ISSUER'],
      [{ WEBHOOK_ISSUER: 'not a url' }, 'WEBHOOK_ISSUER'],
      [{ WEBHOOK_ALLOW_PRIVATE: 'sometimes' }, 'WEBHOOK_ALLOW_PRIVATE'],
      [{ WEBHOOK_TIMEOUT: '0' }, 'WEBHOOK_TIMEOUT'],
      [{ WEBHOOK_TIMEOUT: '10s' }, 'WEBHOOK_TIMEOUT'],
      [{ WEBHOOK_MAX_ATTEMPTS: '101' }, 'WEBHOOK_MAX_ATTEMPTS'],
      [{ WEBHOOK_RETRY_BASE_MS: '0' }, 'WEBHOOK_RETRY_BASE_MS'],
      [{ WEBHOOK_POLL_MS: '1' }, 'WEBHOOK_POLL_MS'],
      [{ WEBHOOK_CONCURRENCY: '0' }, 'WEBHOOK_CONCURRENCY'],
      [{ WEBHOOK_WORKER: 'perhaps' }, 'WEBHOOK_WORKER'],
      [{ ATTACHMENT_STORAGE: 's3' }, 'ATTACHMENT_STORAGE'],
      [{ ATTACHMENT_SIZE_LIMIT: 'huge' }, 'ATTACHMENT_SIZE_LIMIT'],
      [{ ATTACHMENT_SIZE_LIMIT: '2gb' }, 'ATTACHMENT_SIZE_LIMIT'],
      [{ ATTACHMENT_EXTENSIONS: 'pdf, ../x' }, 'ATTACHMENT_EXTENSIONS'],
      [{ ATTACHMENT_SWEEP_INTERVAL: 'hourly' }, 'ATTACHMENT_SWEEP_INTERVAL'],
    ]
    for (const [env, variable] of cases) {
      assert.throws(() => loadConfig(env), (error: Error) => error instanceof ConfigError && error.message.startsWith(`${variable}: `) && !error.message.includes('\n'), variable)
    }
    assert.equal(loadConfig({ WORKERS: '2', DATABASE_URL: 'postgres://localhost/x', REDIS_URL: 'redis://localhost' }).workers, 2)
  })

  it('reads the webhook settings, with the spec defaults', () => {
    assert.deepEqual(loadConfig({}).webhooks, { issuer: undefined, allowPrivate: false, timeoutSeconds: 10, maxAttempts: 10, retryBaseMs: 10_000, pollMs: 1000, concurrency: 8, inServer: true })
    const set = loadConfig({ WEBHOOK_ISSUER: 'https://{account}.example.com/', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_TIMEOUT: '3', WEBHOOK_MAX_ATTEMPTS: '5', WEBHOOK_WORKER: 'false' }).webhooks
    assert.equal(set.issuer, 'https://{account}.example.com')
    assert.deepEqual([set.allowPrivate, set.timeoutSeconds, set.maxAttempts, set.inServer], [true, 3, 5, false])
  })

  it('checks at start that uploads can be written in ATTACHMENT_DIR, leaving nothing behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'app-offerings-probe-'))
    try {
      await checkFileStore({ storage: 'local', dir: join(dir, 'not', 'yet') })
      assert.deepEqual(readdirSync(dir), [], 'the folder is made by the first upload, not by the check')
      await checkFileStore({ storage: 'local', dir })
      assert.deepEqual(readdirSync(dir), [])
      writeFileSync(join(dir, 'a-file'), 'x')
      for (const bad of [join(dir, 'a-file'), join(dir, 'a-file', 'below'), '/proc/no-such-dir/attachments']) {
        await assert.rejects(checkFileStore({ storage: 'local', dir: bad }), (error: Error) => error instanceof ConfigError && error.message.startsWith('ATTACHMENT_DIR: cannot write files in '), bad)
      }
      await checkFileStore({ storage: 'database', dir: '/proc/no-such-dir' })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('reads the attachment settings, with their defaults', () => {
    const defaults = loadConfig({}).attachments
    assert.deepEqual({ ...defaults, extensions: defaults.extensions.slice(0, 2) }, { storage: 'local', dir: 'data/attachments', sizeLimit: 100 * 1024 * 1024, extensions: ['pdf', 'txt'], sweepIntervalSeconds: 3600 })
    for (const risky of ['exe', 'html', 'htm', 'js', 'sh', 'bat', 'svgz', 'php']) assert.ok(!defaults.extensions.includes(risky), risky)
    const set = loadConfig({ ATTACHMENT_STORAGE: 'database', ATTACHMENT_DIR: '/srv/files', ATTACHMENT_SIZE_LIMIT: '20mb', ATTACHMENT_EXTENSIONS: ' PDF,.png ,pdf', ATTACHMENT_SWEEP_INTERVAL: '0' }).attachments
    assert.deepEqual(set, { storage: 'database', dir: '/srv/files', sizeLimit: 20 * 1024 * 1024, extensions: ['pdf', 'png'], sweepIntervalSeconds: 0 })
  })

  it('takes TRUST_PROXY as true/false or as the proxies whose X-Forwarded-For counts', async () => {
    assert.equal(loadConfig({}).trustProxy, false)
    assert.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true)
    assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1/128,loopback' }).trustProxy, ['10.0.0.0/8', '127.0.0.1', '::1/128', 'loopback'])
    // A request from a listed proxy gets the forwarded address; from anywhere else, its own.
    const { default: Fastify } = await import('fastify')
    for (const [trustProxy, from, expected] of [
      [loadConfig({ TRUST_PROXY: '10.1.2.3' }).trustProxy, '10.1.2.3', '203.0.113.9'],
      [loadConfig({ TRUST_PROXY: '10.1.2.3' }).trustProxy, '198.51.100.7', '198.51.100.7'],
      [loadConfig({ TRUST_PROXY: 'true' }).trustProxy, '198.51.100.7', '203.0.113.9'],
      [loadConfig({}).trustProxy, '10.1.2.3', '10.1.2.3'],
    ] as const) {
      const app = Fastify({ trustProxy: trustProxy as boolean | string[] })
      app.get('/', async (request) => ({ ip: request.ip }))
      const res = await app.inject({ url: '/', remoteAddress: from, headers: { 'x-forwarded-for': '203.0.113.9' } })
      assert.equal(res.json().ip, expected, `${JSON.stringify(trustProxy)} from ${from}`)
      await app.close()
    }
  })
})

describe('a real server (sqlite)', () => {
  let store: TestStore
  let app: Awaited<ReturnType<typeof buildApp>>
  let origin: string
  let token: string
  before(async () => {
    store = await freshStore('sqlite')
    const database = store.open()
    await migrateToLatest(database)
    await createAccount(database, 'wire', 'Wire')
    token = (await createToken(database, 'wire')).token
    const config = loadConfig({ DATABASE_URL: store.url, BODY_LIMIT: '1kb', RATE_LIMIT: 'off', SECRET_KEY: 'test-secret-key-0123456789abcdefghij' })
    app = await buildApp({ config, database, secretKey: config.secretKey! }, pino({ level: 'silent' }))
    app.addHook('onClose', () => database.close())
    origin = await app.listen({ port: 0, host: '127.0.0.1' })
  })
  after(async () => {
    await app.close()
    await store.drop()
  })

  it('lets a client that sends a too-large body read the 413', async () => {
    const body = Buffer.alloc(5 * 1024 * 1024, 'a')
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` }
    const res = await httpRequest(`${origin}/v1/service_instances`, { method: 'POST', headers, body })
    assert.equal(res.statusCode, 413)
    assert.deepEqual(await res.body.json(), { message: 'Payload Too Large' })
  })
})

if (engines.includes('postgres')) {
  describe('while the database cannot be reached (postgres)', () => {
    let store: TestStore
    let proxy: TcpProxy
    let app: Awaited<ReturnType<typeof buildApp>>
    let token: string
    before(async () => {
      store = await freshStore('postgres')
      const pg = new URL(process.env.TEST_DATABASE_URL!)
      proxy = await tcpProxy(pg.hostname, Number(pg.port || 5432))
      const direct = store.open()
      await migrateToLatest(direct)
      await createAccount(direct, 'outage', 'Outage')
      token = (await createToken(direct, 'outage')).token
      await direct.close()
      const schema = decodeURIComponent(store.url).match(/search_path=(\w+)/)![1]
      pg.port = String(proxy.port)
      const database = openDatabase(pg.href, { pgSchema: schema, poolSize: 2 })
      const config = loadConfig({ RATE_LIMIT: 'off', SECRET_KEY: 'test-secret-key-0123456789abcdefghij' })
      app = await buildApp({ config, database, secretKey: config.secretKey! }, pino({ level: 'silent' }))
      app.addHook('onClose', () => database.close())
    })
    after(async () => {
      await app.close()
      await proxy.close()
      await store.drop()
    })

    it('answers 503 with Retry-After, says so in /readyz, and recovers by itself', async () => {
      const call = () => request(app, 'GET', '/v1/service_instances', undefined, { authorization: `Bearer ${token}` })
      assert.equal((await call()).statusCode, 200)
      await proxy.cut()
      const down = await call()
      assert.equal(down.statusCode, 503)
      assert.deepEqual(down.json(), { message: 'Service Unavailable' })
      assert.match(down.headers['retry-after'] as string, /^\d+$/)
      const ready = await request(app, 'GET', '/readyz')
      assert.equal(ready.statusCode, 503)
      assert.equal(ready.json().database, 'unreachable')
      assert.equal((await request(app, 'GET', '/healthz')).statusCode, 200, 'the process is still up')

      await proxy.restore()
      let status = 0
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = (await call()).statusCode
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100))
      }
      assert.equal(status, 200, 'back without a restart')
      assert.equal((await request(app, 'GET', '/readyz')).statusCode, 200)
    })
  })
}
