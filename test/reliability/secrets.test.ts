// Secrets: a token exists only in the hands of whoever it was given to. The database keeps a hash
// of it, a real server's log never shows it (used or refused), and no answer repeats it.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { sql, type Kysely } from 'kysely'
import { setTrust } from '../../src/cli/trust.ts'
import { openPrivateJwk } from '../../src/storage/signing-keys.ts'
import { Client, provision, spawnServer, type ServerProcess, type Tenant } from '../support/server-process.ts'
import { offeringBody } from '../support/workload.ts'
import { engines, freshStore, type TestStore } from '../support/stores.ts'

/** Every value of every table, as text. */
async function everyRow(store: TestStore): Promise<string> {
  const database = store.open()
  try {
    const db = database.db as Kysely<any>
    // Kysely lists the tables of every schema; this store's are those of the connection's own.
    const own = database.engine === 'postgres' ? String((await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0].s) : undefined
    const tables = (await db.introspection.getTables()).filter((table) => own === undefined || table.schema === own)
    let text = ''
    for (const table of tables) text += JSON.stringify(await db.selectFrom(table.name).selectAll().execute())
    return text
  } finally {
    await database.close()
  }
}

for (const engine of engines) {
  describe(`secrets (${engine})`, () => {
    let store: TestStore
    let server: ServerProcess
    let tenants: Tenant[]
    const all = () => tenants.flatMap((t) => [t.token, t.readToken, t.revokedToken])

    before(async () => {
      store = await freshStore(engine)
      tenants = await provision(store, 2)
      // The most talkative level: nothing may reach the log at any level.
      server = await spawnServer(store.url, { LOG_LEVEL: 'trace', RATE_LIMIT: 'on', RATE_LIMIT_BURST: '1000' })
    })
    after(async () => {
      await server?.stop()
      await store?.drop()
    })

    it('uses tokens, has them refused and misused, and neither the answers nor the log repeat them', async () => {
      const [owner, other] = tenants
      const anonymous = new Client(server.origin)
      const answers: string[] = []
      const call = async (token: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
        const res = await anonymous.call(method, path, body, { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers })
        answers.push(`${res.status} ${JSON.stringify(res.headers)} ${res.text}`)
        return res
      }
      try {
        assert.equal((await call(owner.token, 'POST', '/v1/service_instances', { name: 'Used' })).status, 201)
        assert.equal((await call(owner.readToken, 'GET', '/v1/service_instances')).status, 200)
        assert.equal((await call(owner.readToken, 'POST', '/v1/service_instances', { name: 'Refused' })).status, 403)
        assert.equal((await call(owner.revokedToken, 'GET', '/v1/service_instances')).status, 401)
        assert.equal((await call(`${owner.token}x`, 'GET', '/v1/service_instances')).status, 401)
        assert.equal((await call(owner.token, 'GET', '/v1/service_instances', undefined, { 'x-4me-account': other.id })).status, 403)
        assert.equal((await call(undefined, 'GET', '/v1/service_instances', undefined, { authorization: `Basic ${Buffer.from(`u:${owner.token}`).toString('base64')}` })).status, 401)
        assert.equal((await call(undefined, 'GET', '/v1/service_instances', undefined, { authorization: `Token ${owner.token}` })).status, 401)
        // Tokens where they do not belong: the query string, a path, a body.
        assert.equal((await call(undefined, 'GET', `/v1/service_instances?access_token=${owner.token}`)).status, 401)
        assert.equal((await call(owner.token, 'GET', `/v1/service_instances?access_token=${other.token}`)).status, 400)
        assert.equal((await call(owner.token, 'GET', `/v1/service_instances/${other.token}`)).status, 404)
        assert.equal((await call(owner.token, 'GET', `/v1/nowhere/${other.token}`)).status, 404)
        assert.equal((await call(owner.token, 'PATCH', '/v1/service_instances/1', `{"name": ${JSON.stringify(other.token)}`)).status, 400)
        assert.equal((await call(owner.token, 'GET', `/v1/service_instances?search_after=${other.token}`)).status, 400)
      } finally {
        await anonymous.close()
      }

      const others = all().filter((t) => t !== owner.token)
      for (const answer of answers) {
        for (const token of others) assert.ok(!answer.includes(token), `an answer repeats a token: ${answer.slice(0, 300)}`)
      }
      // Let the log drain, then read it: it has lines, and not one token in them.
      await server.stop()
      const log = server.output()
      assert.match(log, /"msg":"request"/)
      for (const token of all()) {
        assert.ok(!log.includes(token), 'the log holds a token')
        assert.ok(!log.includes(token.slice(3)), 'the log holds the secret part of a token')
      }
    })

    it('stores tokens only as SHA-256 hashes', async () => {
      const stored = await everyRow(store)
      for (const token of all()) {
        assert.ok(!stored.includes(token.slice(3)), 'a table holds a token')
        assert.ok(stored.includes(createHash('sha256').update(token).digest('hex')), 'the hash is not where it should be')
      }
      if (engine === 'sqlite') {
        // Not even in a free page or the write-ahead log.
        const path = store.url.slice('sqlite:'.length)
        for (const file of [path, `${path}-wal`].filter(existsSync)) {
          const bytes = readFileSync(file).toString('latin1')
          for (const token of all()) assert.ok(!bytes.includes(token.slice(3)), `${file} holds a token`)
        }
      }
    })
  })
}

for (const engine of engines) {
  describe(`webhook signing keys (${engine})`, () => {
    let store: TestStore
    let server: ServerProcess | undefined
    after(async () => {
      await server?.stop()
      await store?.drop()
    })

    it('keeps private keys sealed: not in a table, the log or an answer; the public PEM only in the answer that made it', async () => {
      store = await freshStore(engine)
      const [provider, customer] = await provision(store, 2)
      const setup = store.open()
      await setTrust(setup, customer.id, provider.id, true)
      await setup.close()
      server = await spawnServer(store.url, { LOG_LEVEL: 'trace', WEBHOOK_ALLOW_PRIVATE: 'true' })
      const answers: string[] = []
      const as = (tenant: Tenant) => new Client(server!.origin, tenant.token)
      const [p, c] = [as(provider), as(customer)]
      const call = async (client: Client, method: string, path: string, body?: unknown) => {
        const res = await client.call(method, path, body)
        answers.push(`${res.status} ${JSON.stringify(res.headers)} ${res.text}`)
        return res
      }
      let pems: string[]
      try {
        const si = await call(p, 'POST', '/v1/service_instances', { name: 'Mail' })
        const draft = await call(p, 'POST', '/v1/app_offerings', { ...offeringBody(si.json().id, 'Signed app'), webhook_uri_template: 'http://127.0.0.1:9/{account}', disabled: false })
        const version = await call(p, 'POST', `/v1/app_offerings/${draft.json().id}/publish`)
        const install = await call(c, 'POST', '/v1/app_instances', { app_offering_id: version.json().id })
        assert.equal(install.status, 201, install.text)
        const policy = await call(c, 'POST', '/v1/webhook_policies', { jwt_alg: 'rs512' })
        assert.equal(policy.status, 201, policy.text)
        pems = [install.json().public_key_pem, policy.json().public_key_pem]
        await call(c, 'GET', `/v1/app_instances/${install.json().id}`)
        await call(p, 'GET', `/v1/app_instances/${install.json().id}`)
        await call(c, 'GET', `/v1/webhook_policies/${policy.json().id}`)
        await call(c, 'GET', '/v1/webhook_policies')
        await call(c, 'GET', `/v1/webhook_policies/${policy.json().id}/jwks`)
        await call(c, 'GET', `/v1/accounts/${customer.id}/jwks.json`)
        await call(c, 'GET', `/v1/accounts/${provider.id}/jwks.json`)
        await call(c, 'GET', `/v1/webhook_policies/${policy.json().id}/audit`)
        await call(c, 'GET', `/v1/webhooks/${install.json().webhook.id}/deliveries`)
      } finally {
        await p.close()
        await c.close()
      }
      // Each PEM appears in exactly one answer: the one that made it.
      for (const pem of pems) assert.equal(answers.filter((a) => a.includes(JSON.stringify(pem).slice(1, 40))).length, 1)
      // Let the log drain, then read it with the rest.
      const running = server
      await running.stop()
      server = undefined
      const log = running.output()
      assert.match(log, /"msg":"request"/)

      const database = store.open()
      const sealed = await (database.db as Kysely<any>).selectFrom('webhook_keys').select(['kid', 'private_key']).execute()
      await database.close()
      assert.equal(sealed.length, 2)
      const secret = 'reliability-secret-key-0123456789abcdef'
      const privates = sealed.map((row) => openPrivateJwk(secret, row.kid, row.private_key))
      const parts = privates.flatMap((jwk) => [jwk.d, jwk.p, jwk.q].filter((v): v is string => typeof v === 'string'))
      assert.ok(parts.length >= 4)
      // Sealed under another secret, the key does not open.
      assert.throws(() => openPrivateJwk('another-secret-key-0123456789abcdefgh', sealed[0].kid, sealed[0].private_key))
      const stored = await everyRow(store)
      for (const part of parts) {
        assert.ok(!stored.includes(part), 'a table holds a private key in the clear')
        for (const answer of answers) assert.ok(!answer.includes(part), 'an answer holds a private key')
        assert.ok(!log.includes(part), 'the log holds a private key')
      }
    })
  })
}

describe('dependencies', () => {
  const root = new URL('../../', import.meta.url)
  const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'))
  const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8'))

  it('pins every dependency exactly, and the lockfile pins the whole tree', () => {
    for (const [name, range] of Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })) {
      assert.match(String(range), /^\d+\.\d+\.\d+$/, `${name}@${range} is not an exact version`)
      assert.equal(lock.packages[`node_modules/${name}`]?.version, range, `${name} in the lockfile`)
    }
    for (const [path, entry] of Object.entries<Record<string, unknown>>(lock.packages)) {
      if (path === '' || entry.link) continue
      assert.ok(entry.version && entry.integrity, `${path} is not pinned in the lockfile`)
    }
  })

  it('says in docs/reliability.md why each production dependency is there', () => {
    const doc = readFileSync(new URL('docs/reliability.md', root), 'utf8')
    for (const name of Object.keys(manifest.dependencies)) assert.ok(doc.includes(`| \`${name}\` |`), `${name} is not in docs/reliability.md`)
  })
})
