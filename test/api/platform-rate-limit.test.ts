import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import pino from 'pino'
import { buildApp } from '../../src/app.ts'
import { engines } from '../support/stores.ts'
import { request, startHarness, stopHarness, uniqueId, useHarness, type Harness } from '../support/harness.ts'
import { tcpProxy, type TcpProxy } from '../support/tcp-proxy.ts'

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** The rate-limit settings of a test, on the in-memory or the Redis counters. */
function limits(counters: 'memory' | 'redis', env: Record<string, string>): Record<string, string> {
  const redis: Record<string, string> = counters === 'redis' ? { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: `${uniqueId('test')}:` } : {}
  return { RATE_LIMIT: 'on', RATE_LIMIT_BURST: '1000', RATE_LIMIT_HOURLY: '1000', ...redis, ...env }
}

/** A second server process's app: same database, same configuration. */
async function secondApp(h: Harness) {
  const app = await buildApp({ config: h.config, database: h.database, secretKey: h.config.secretKey! }, pino({ level: 'silent' }))
  await app.ready()
  return app
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

for (const engine of engines) {
  for (const counters of ['memory', 'redis'] as const) {
    describe(`rate limits (${engine}, ${counters})`, () => {
      const h = useHarness(engine, limits(counters, { RATE_LIMIT_BURST: '3', RATE_LIMIT_BURST_SECONDS: '60', RATE_LIMIT_HOURLY: '5' }))

      it('reports the hourly window on every authenticated answer, errors included', async () => {
        const account = await h().account()
        const first = await account.call('GET', '/v1/app_offerings')
        assert.equal(first.statusCode, 200)
        assert.equal(first.headers['x-ratelimit-limit'], '5')
        assert.equal(first.headers['x-ratelimit-remaining'], '4')
        const reset = Number(first.headers['x-ratelimit-reset'])
        const now = Date.now() / 1000
        assert.ok(reset > now && reset <= now + 3601, `reset ${reset} is an epoch second within the hour`)
        const missing = await account.call('GET', '/v1/app_offerings/999999')
        assert.equal(missing.statusCode, 404)
        assert.equal(missing.headers['x-ratelimit-remaining'], '3')
        const invalid = await account.call('POST', '/v1/service_instances', {})
        assert.equal(invalid.statusCode, 422)
        assert.equal(invalid.headers['x-ratelimit-remaining'], '2')
        assert.equal((await request(h().app, 'GET', '/v1/app_offerings')).headers['x-ratelimit-limit'], undefined, 'no token, no rate-limit headers')
      })

      it('refuses past the burst with 429, Retry-After from the burst window, per token', async () => {
        const account = await h().account()
        for (let i = 0; i < 3; i++) assert.equal((await account.call('GET', '/v1/service_instances')).statusCode, 200)
        const refused = await account.call('GET', '/v1/service_instances')
        assert.equal(refused.statusCode, 429)
        assert.deepEqual(refused.json(), { message: 'Too Many Requests' })
        const retryAfter = refused.headers['retry-after'] as string
        assert.match(retryAfter, /^\d+$/)
        assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 60, `Retry-After ${retryAfter} is within the burst window`)
        assert.equal(refused.headers['x-ratelimit-remaining'], '1')
        const readToken = await request(h().app, 'GET', '/v1/service_instances', undefined, { authorization: `Bearer ${account.readToken}` })
        assert.equal(readToken.statusCode, 200, 'another token has its own limit')
      })

      it('refuses past the hourly limit with a Retry-After from the hourly window', async () => {
        const account = await h().account()
        const other = { authorization: `Bearer ${account.readToken}` }
        // Two requests a token stay inside the burst of 3; the hourly limit of 5 is per token too.
        for (let i = 0; i < 5; i++) await request(h().app, 'GET', '/v1/service_instances', undefined, other)
        const refused = await request(h().app, 'GET', '/v1/service_instances', undefined, other)
        assert.equal(refused.statusCode, 429)
        assert.equal(refused.headers['x-ratelimit-remaining'], '0')
        // The burst (60 s) refuses too; Retry-After is when both windows let a request through.
        assert.ok(Number(refused.headers['retry-after']) > 60, `Retry-After ${refused.headers['retry-after']} names the hourly window`)
      })

      it('checks the token and the account header before the limit', async () => {
        const account = await h().account()
        for (let i = 0; i < 4; i++) await account.call('GET', '/v1/service_instances')
        assert.equal((await account.call('GET', '/v1/app_offerings')).statusCode, 429)
        assert.equal((await account.call('GET', '/v1/app_offerings', undefined, { 'x-4me-account': 'someone-else' })).statusCode, 403)
        assert.equal((await request(h().app, 'GET', '/v1/app_offerings', undefined, { authorization: 'Bearer ao_not-a-real-token-at-all' })).statusCode, 401)
      })

      it('counts a 403 for another account in the header: the token authenticated', async () => {
        const account = await h().account()
        const foreign = await account.call('GET', '/v1/app_offerings', undefined, { 'x-4me-account': 'someone-else' })
        assert.equal(foreign.statusCode, 403)
        assert.deepEqual(foreign.json(), { message: 'Forbidden' })
        assert.equal(foreign.headers['x-ratelimit-remaining'], '4', 'the 403 is an authenticated answer and counted')
        const xurrent = await account.call('GET', '/v1/app_offerings', undefined, { 'x-xurrent-account': 'someone-else' })
        assert.equal(xurrent.statusCode, 403)
        assert.equal(xurrent.headers['x-ratelimit-remaining'], '3')
        assert.equal((await account.call('GET', '/v1/service_instances')).statusCode, 200) // the burst's 3rd
        assert.equal((await account.call('GET', '/v1/service_instances')).statusCode, 429, 'the two 403s used up the burst')
        const stillForeign = await account.call('GET', '/v1/app_offerings', undefined, { 'x-4me-account': 'someone-else' })
        assert.equal(stillForeign.statusCode, 403, 'the account header is checked before the limit')
      })

      it('GET /v1/rate_limit reports both windows, burst first, both "core", and does not count', async () => {
        const account = await h().account()
        await account.call('GET', '/v1/service_instances')
        for (let i = 0; i < 4; i++) {
          const res = await account.call('GET', '/v1/rate_limit')
          assert.equal(res.statusCode, 200)
          const [burst, hourly] = res.json().resources
          assert.deepEqual({ ...burst, reset: 0 }, { context: 'core', limit: 3, remaining: 2, reset: 0 })
          assert.deepEqual({ ...hourly, reset: 0 }, { context: 'core', limit: 5, remaining: 4, reset: 0 })
          assert.equal(res.json().resources.length, 2)
          assert.ok(burst.reset <= hourly.reset)
        }
        assert.equal((await account.call('GET', '/v1/service_instances')).statusCode, 200, 'the reports did not use up the burst')
      })

      it('GET /v1/rate_limit answers while the token is refused, and says when to retry', async () => {
        const account = await h().account()
        for (let i = 0; i < 3; i++) assert.equal((await account.call('GET', '/v1/service_instances')).statusCode, 200)
        assert.equal((await account.call('GET', '/v1/service_instances')).statusCode, 429)
        const res = await account.call('GET', '/v1/rate_limit')
        assert.equal(res.statusCode, 200, 'the report is exactly what a refused client needs')
        const [burst, hourly] = res.json().resources
        assert.equal(burst.remaining, 0)
        assert.equal(hourly.remaining, 1)
        assert.ok(burst.reset > Date.now() / 1000, 'reset says when the burst opens again')
        assert.equal(res.headers['x-ratelimit-remaining'], '1')
        assert.equal((await account.call('GET', '/v1/service_instances')).statusCode, 429, 'still refused: the report did not count')
      })

      it(counters === 'redis' ? 'shares one limit between processes' : 'keeps a limit per process', async () => {
        const account = await h().account()
        const other = await secondApp(h())
        try {
          const statuses = []
          for (let i = 0; i < 6; i++) {
            const app = i % 2 === 0 ? h().app : other
            statuses.push((await request(app, 'GET', '/v1/service_instances', undefined, { authorization: `Bearer ${account.token}` })).statusCode)
          }
          const expected = counters === 'redis' ? [200, 200, 200, 429, 429, 429] : [200, 200, 200, 200, 200, 200]
          assert.deepEqual(statuses, expected)
        } finally {
          await other.close()
        }
      })
    })

    describe(`rate limits: a window opens again (${engine}, ${counters})`, () => {
      const h = useHarness(engine, limits(counters, { RATE_LIMIT_BURST: '2', RATE_LIMIT_BURST_SECONDS: '1' }))

      it('lets requests through once Retry-After has passed', async () => {
        const account = await h().account()
        for (let i = 0; i < 2; i++) assert.equal((await account.call('GET', '/v1/service_instances')).statusCode, 200)
        const refused = await account.call('GET', '/v1/service_instances')
        assert.equal(refused.statusCode, 429)
        assert.equal(refused.headers['retry-after'], '1')
        await sleep(1100)
        assert.equal((await account.call('GET', '/v1/service_instances')).statusCode, 200)
      })
    })

    describe(`failed authentication from one address (${engine}, ${counters})`, () => {
      const h = useHarness(engine, limits(counters, {}))

      it('answers 429 after 20 failures, and still lets valid tokens in', async () => {
        const account = await h().account()
        const bad = { authorization: 'Bearer ao_wrong-token-wrong-token-wrong' }
        for (let i = 0; i < 20; i++) assert.equal((await request(h().app, 'GET', '/v1/app_offerings', undefined, bad)).statusCode, 401)
        const slowed = await request(h().app, 'GET', '/v1/app_offerings', undefined, bad)
        assert.equal(slowed.statusCode, 429)
        assert.deepEqual(slowed.json(), { message: 'Too Many Requests' })
        assert.ok(Number(slowed.headers['retry-after']) >= 1 && Number(slowed.headers['retry-after']) <= 60)
        assert.equal((await request(h().app, 'GET', '/v1/app_offerings')).statusCode, 429, 'no token at all is a failure too')
        assert.equal((await account.call('GET', '/v1/app_offerings')).statusCode, 200)
        assert.equal((await request(h().app, 'GET', '/v1')).statusCode, 200, 'public routes stay open')
      })
    })
  }

  describe(`rate limits off (${engine})`, () => {
    const h = useHarness(engine, { RATE_LIMIT: 'off', RATE_LIMIT_BURST: '1' })

    it('neither limits nor slows down failed authentication', async () => {
      const account = await h().account()
      for (let i = 0; i < 3; i++) assert.equal((await account.call('GET', '/v1/service_instances')).statusCode, 200)
      for (let i = 0; i < 25; i++) assert.equal((await request(h().app, 'GET', '/v1/app_offerings')).statusCode, 401)
      const report = (await account.call('GET', '/v1/rate_limit')).json()
      assert.equal(report.resources[0].remaining, 1)
    })
  })

  describe(`rate limits when Redis is unreachable at start (${engine})`, () => {
    const h = useHarness(engine, { RATE_LIMIT: 'on', RATE_LIMIT_BURST: '2', RATE_LIMIT_BURST_SECONDS: '60', REDIS_URL: 'redis://127.0.0.1:1' })

    it('serves with per-process limits and says so in /readyz', async () => {
      const account = await h().account()
      const statuses = []
      for (let i = 0; i < 3; i++) statuses.push((await account.call('GET', '/v1/service_instances')).statusCode)
      assert.deepEqual(statuses, [200, 200, 429])
      const ready = await request(h().app, 'GET', '/readyz')
      assert.equal(ready.statusCode, 200)
      assert.equal(ready.json().rate_limits, 'redis unavailable: per-process limits')
    })
  })

  describe(`rate limits when Redis goes away and comes back (${engine})`, () => {
    let proxy: TcpProxy
    let harness: Harness
    const target = new URL(redisUrl)
    before(async () => {
      proxy = await tcpProxy(target.hostname, Number(target.port || 6379))
      const env = limits('redis', { RATE_LIMIT_BURST: '3', RATE_LIMIT_BURST_SECONDS: '600' })
      harness = await startHarness(engine, { ...env, REDIS_URL: `redis://127.0.0.1:${proxy.port}` })
    })
    after(async () => {
      await stopHarness(harness)
      await proxy.close()
    })

    it('falls back to per-process limits, then shares them again', async () => {
      const account = await harness.account()
      const call = () => account.call('GET', '/v1/service_instances')
      const countedIn = async () => (await request(harness.app, 'GET', '/readyz')).json().rate_limits
      assert.equal(await countedIn(), 'redis')
      assert.equal((await call()).statusCode, 200) // 1 in Redis

      await proxy.cut()
      assert.equal((await call()).statusCode, 200, 'served while Redis is away') // 1 in memory
      assert.equal(await countedIn(), 'redis unavailable: per-process limits')
      for (let i = 0; i < 2; i++) await call() // 3 in memory
      assert.equal((await call()).statusCode, 429, 'limited per process meanwhile')

      await proxy.restore()
      await waitFor(async () => (await countedIn()) === 'redis')
      const statuses = []
      for (let i = 0; i < 3; i++) statuses.push((await call()).statusCode)
      assert.deepEqual(statuses, [200, 200, 429], 'counted in Redis again, where 1 was used')
    })
  })
}

for (const engine of engines) {
  describe(`rate limits when Redis stalls without closing the connection, then thaws (${engine})`, () => {
    let proxy: TcpProxy
    let harness: Harness
    const target = new URL(redisUrl)
    before(async () => {
      proxy = await tcpProxy(target.hostname, Number(target.port || 6379))
      const env = limits('redis', { RATE_LIMIT_BURST: '3', RATE_LIMIT_BURST_SECONDS: '600' })
      harness = await startHarness(engine, { ...env, REDIS_URL: `redis://127.0.0.1:${proxy.port}` })
    })
    after(async () => {
      proxy.thaw()
      await stopHarness(harness)
      await proxy.close()
    })

    it('falls back to per-process limits during the stall and shares them again after the thaw', async () => {
      const account = await harness.account()
      const call = (app = harness.app) => request(app, 'GET', '/v1/service_instances', undefined, { authorization: `Bearer ${account.token}` })
      const countedIn = async () => (await request(harness.app, 'GET', '/readyz')).json().rate_limits
      assert.equal(await countedIn(), 'redis')
      assert.equal((await call()).statusCode, 200)

      proxy.freeze()
      // The first command waits for the command timeout (1 s), then counting falls back.
      assert.equal((await call()).statusCode, 200, 'served while Redis is frozen')
      assert.equal(await countedIn(), 'redis unavailable: per-process limits')
      await sleep(4000) // long enough for unanswered probes, and a reconnect through the frozen proxy
      assert.equal(await countedIn(), 'redis unavailable: per-process limits', 'still frozen')

      proxy.thaw()
      await waitFor(async () => (await countedIn()) === 'redis')
      // Shared again: what this process counts, another process sees.
      const statuses: number[] = []
      while (statuses.at(-1) !== 429 && statuses.length < 5) statuses.push((await call()).statusCode)
      assert.equal(statuses.at(-1), 429, `the shared burst of 3 ran out: ${statuses}`)
      const other = await secondApp(harness)
      try {
        assert.equal((await call(other)).statusCode, 429, 'a second process sees the same shared count')
      } finally {
        await other.close()
      }
    })
  })
}

async function waitFor(condition: () => Promise<boolean>, attempts = 100): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await condition()) return
    await sleep(100)
  }
  assert.fail('condition not met within 10 s')
}
