// The `app-offerings` command as a user runs it: a child process on a fresh store of each engine.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import pino from 'pino'
import { buildApp } from '../../src/app.ts'
import { appOfferings } from '../../src/resources/app-offerings/fields.ts'
import { readBody } from '../../src/catalogue/body.ts'
import { loadConfig } from '../../src/config.ts'
import type { Database } from '../../src/storage/database.ts'
import { migrateToLatest } from '../../src/storage/migrate.ts'
import { engines, freshStore, type TestStore } from '../support/stores.ts'
import { request, uniqueId } from '../support/harness.ts'
import { command } from '../support/command.ts'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the command to its end. */
function cli(store: TestStore, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [command(), ...args], { env: { ...process.env, DATABASE_URL: store.url, LOG_LEVEL: 'silent', ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Starts `serve` on a free port; resolves once it listens, with what it printed so far. */
function serve(store: TestStore, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [command(), 'serve'], {
    env: { ...process.env, DATABASE_URL: store.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', RATE_LIMIT: 'off', ...env },
  })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  const listening = new Promise<{ url: string }>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue
        const entry = JSON.parse(line)
        if (entry.msg === 'listening') resolve({ url: entry.url })
      }
    })
    exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)))
  })
  return {
    listening,
    exited,
    output: () => stdout,
    stderr: () => stderr,
    async stop() {
      child.kill('SIGTERM')
      return exited
    },
  }
}

/** An app on the same store as the command, as a second process would see it. */
async function appOn(database: Database) {
  const config = loadConfig({ RATE_LIMIT: 'off', LOG_LEVEL: 'silent', SECRET_KEY: 'test-secret-key-0123456789abcdefghij' })
  const app = await buildApp({ config, database, secretKey: config.secretKey! }, pino({ level: 'silent' }))
  await app.ready()
  return app
}

const lastLine = (text: string) => text.trimEnd().split('\n').at(-1)!

for (const engine of engines) {
  describe(`the command line (${engine})`, () => {
    let store: TestStore
    let database: Database
    const account = uniqueId('cli')

    before(async () => {
      store = await freshStore(engine)
      database = store.open()
    })
    after(async () => {
      await database.close()
      await store.drop()
    })

    it('migrate creates the schema, and a second run changes nothing', async () => {
      const first = await cli(store, ['migrate'])
      assert.equal(first.code, 0, first.stderr)
      assert.match(first.stdout, /^applied 001-initial/)
      const second = await cli(store, ['migrate'])
      assert.equal(second.code, 0, second.stderr)
      assert.equal(second.stdout, 'database is up to date\n')
      assert.deepEqual(await migrateToLatest(database), [])
    })

    it('accounts create adds an account and refuses bad ids and duplicates', async () => {
      const made = await cli(store, ['accounts', 'create', account, '--name', 'CLI Test'])
      assert.equal(made.code, 0, made.stderr)
      assert.equal(made.stdout, `created account ${account}\n`)
      // The full rule is table-tested on createAccount; here, that the command refuses in one line.
      for (const id of ['Upper', 'x'.repeat(33)]) {
        const res = await cli(store, ['accounts', 'create', id, '--name', 'Bad'])
        assert.notEqual(res.code, 0, id)
        assert.match(res.stderr, /^app-offerings: account id .* must be 2 to 32 lowercase letters/, id)
        assert.equal(res.stderr.trimEnd().split('\n').length, 1)
      }
      const duplicate = await cli(store, ['accounts', 'create', account, '--name', 'Again'])
      assert.notEqual(duplicate.code, 0)
      assert.match(duplicate.stderr, /already exists/)
      const noName = await cli(store, ['accounts', 'create', uniqueId('cli')])
      assert.equal(noName.code, 2)
      assert.match(noName.stderr, /--name/)
    })

    it('accounts trust and untrust set up trust between accounts, once each, in one line', async () => {
      const provider = uniqueId('cli')
      assert.equal((await cli(store, ['accounts', 'create', provider, '--name', 'CLI Provider'])).code, 0)
      const trusted = await cli(store, ['accounts', 'trust', account, provider])
      assert.equal(trusted.code, 0, trusted.stderr)
      assert.equal(trusted.stdout, `${account} trusts ${provider}\n`)
      assert.equal((await cli(store, ['accounts', 'trust', account, provider])).stdout, `${account} trusts ${provider} (unchanged)\n`)
      const { trustedBy } = await import('../../src/cli/trust.ts')
      assert.deepEqual(await trustedBy(database, account), [provider])
      const untrusted = await cli(store, ['accounts', 'untrust', account, provider])
      assert.equal(untrusted.stdout, `${account} does not trust ${provider}\n`)
      assert.deepEqual(await trustedBy(database, account), [])
      const unknown = await cli(store, ['accounts', 'trust', account, 'nobody-here'])
      assert.equal(unknown.code, 1)
      assert.equal(unknown.stderr, 'app-offerings: account "nobody-here" does not exist\n')
      assert.equal((await cli(store, ['accounts', 'trust', account])).code, 2)
    })

    it('tokens create prints the id, then the token alone on the last line, and the token works', async () => {
      const write = await cli(store, ['tokens', 'create', '--account', account, '--name', 'ci'])
      assert.equal(write.code, 0, write.stderr)
      const lines = write.stdout.trimEnd().split('\n')
      assert.match(lines[0], /^id \d+$/)
      const token = lastLine(write.stdout)
      assert.match(token, /^ao_[A-Za-z0-9_-]{43}$/)

      const read = await cli(store, ['tokens', 'create', '--account', account, '--scope', 'read'])
      const readToken = lastLine(read.stdout)

      const app = await appOn(database)
      try {
        const asWriter = (method: string, url: string, body?: unknown) => request(app, method, url, body, { authorization: `Bearer ${token}`, 'x-4me-account': account })
        assert.equal((await asWriter('GET', '/v1/app_offerings')).statusCode, 200)
        assert.equal((await asWriter('POST', '/v1/service_instances', { name: 'From the CLI' })).statusCode, 201)
        const asReader = (method: string, url: string, body?: unknown) => request(app, method, url, body, { authorization: `Bearer ${readToken}` })
        assert.equal((await asReader('GET', '/v1/service_instances')).json()[0].name, 'From the CLI')
        assert.equal((await asReader('POST', '/v1/service_instances', { name: 'No' })).statusCode, 403)
      } finally {
        await app.close()
      }

      for (const args of [['--account', account, '--scope', 'admin'], ['--account', 'nobody-here']]) {
        const res = await cli(store, ['tokens', 'create', ...args])
        assert.notEqual(res.code, 0, args.join(' '))
        assert.equal(res.stdout, '')
        assert.equal(res.stderr.trimEnd().split('\n').length, 1)
      }
    })

    it('tokens list shows ids, labels and scopes but never a token; tokens revoke makes a token 401', async () => {
      const created = await cli(store, ['tokens', 'create', '--account', account, '--name', 'to-revoke'])
      const id = /^id (\d+)$/m.exec(created.stdout)![1]
      const token = lastLine(created.stdout)

      const listed = await cli(store, ['tokens', 'list', '--account', account])
      assert.equal(listed.code, 0, listed.stderr)
      assert.ok(!listed.stdout.includes(token))
      assert.ok(!/ao_[A-Za-z0-9_-]{20,}/.test(listed.stdout))
      const row = listed.stdout.split('\n').find((line) => line.startsWith(`${id}\t`))
      assert.ok(row, listed.stdout)
      assert.match(row, /\twrite\tto-revoke\t/)
      assert.match(listed.stdout, /\tread\t-\t/)

      const revoked = await cli(store, ['tokens', 'revoke', id])
      assert.equal(revoked.code, 0, revoked.stderr)
      const app = await appOn(database)
      try {
        const res = await request(app, 'GET', '/v1/app_offerings', undefined, { authorization: `Bearer ${token}` })
        assert.equal(res.statusCode, 401)
      } finally {
        await app.close()
      }
      assert.match((await cli(store, ['tokens', 'list', '--account', account])).stdout, new RegExp(`^${id}\\t.*\\t\\d{4}-\\d\\d-\\d\\dT[^\\t]+Z$`, 'm'))
      const again = await cli(store, ['tokens', 'revoke', id])
      assert.equal(again.code, 1)
      assert.equal((await cli(store, ['tokens', 'revoke', 'abc'])).code, 2)
    })

    it('accounts list shows ids, names, creation and trust; tokens create --person gives the token to that person', async () => {
      const listed = await cli(store, ['accounts', 'list'])
      assert.equal(listed.code, 0, listed.stderr)
      assert.equal(listed.stdout.split('\n')[0], 'id\tname\tcreated\ttrusts')
      assert.match(listed.stdout, new RegExp(`^${account}\tCLI Test\t\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\t$`, 'm'))

      const made = await cli(store, ['tokens', 'create', '--account', account, '--person', 'Ann Smith', '--email', 'ann@example.com'])
      assert.equal(made.code, 0, made.stderr)
      const plain = await cli(store, ['tokens', 'create', '--account', account])
      const app = await appOn(database)
      try {
        const me = await request(app, 'GET', '/v1/me', undefined, { authorization: `Bearer ${lastLine(made.stdout)}` })
        assert.equal(me.statusCode, 200)
        assert.deepEqual(
          { name: me.json().name, primary_email: me.json().primary_email, account: me.json().account },
          { name: 'Ann Smith', primary_email: 'ann@example.com', account: { id: account, name: 'CLI Test' } },
        )
        const fallback = await request(app, 'GET', '/v1/people/me', undefined, { authorization: `Bearer ${lastLine(plain.stdout)}` })
        assert.equal(fallback.json().name, 'Administrator')
        assert.notEqual(fallback.json().id, me.json().id)
      } finally {
        await app.close()
      }
      // The same name and address again: the same person, not a second one.
      const again = await cli(store, ['tokens', 'create', '--account', account, '--person', 'Ann Smith', '--email', 'ann@example.com'])
      const tokens = await cli(store, ['tokens', 'list', '--account', account])
      assert.equal(tokens.stdout.split('\n')[0], 'id\tscope\tname\tperson\tcreated\tlast used\trevoked')
      assert.match(tokens.stdout, new RegExp(`^${/^id (\d+)$/m.exec(again.stdout)![1]}\twrite\t-\tAnn Smith\t`, 'm'))
      const bad = await cli(store, ['tokens', 'create', '--account', account, '--person', 'Bob', '--email', 'not-an-address'])
      assert.equal(bad.code, 2)
      assert.match(bad.stderr, /^app-offerings: "not-an-address" is not an e-mail address/)
    })

    it('seed creates varied, valid draft offerings in the account', async () => {
      const res = await cli(store, ['seed', '--account', account, '--offerings', '300'])
      assert.equal(res.code, 0, res.stderr)
      assert.match(res.stdout, new RegExp(`^created 300 offerings in account ${account}`))
      const created = await cli(store, ['tokens', 'create', '--account', account])
      const token = lastLine(created.stdout)
      const app = await appOn(database)
      try {
        const get = (url: string) => request(app, 'GET', url, undefined, { authorization: `Bearer ${token}` })
        const first = await get('/v1/app_offerings?per_page=100')
        assert.equal(first.headers['x-pagination-total-entries'], '300')
        const records = []
        for (let page = 1; page <= 3; page++) {
          for (const { id } of (await get(`/v1/app_offerings?per_page=100&page=${page}`)).json()) records.push((await get(`/v1/app_offerings/${id}`)).json())
        }
        assert.equal(records.length, 300)
        assert.equal(new Set(records.map((r) => r.name)).size, 300)
        assert.equal(new Set(records.map((r) => r.reference)).size, 300)
        assert.deepEqual(new Set(records.map((r) => r.policy_jwt_alg)), new Set(['rs256', 'rs384', 'rs512', 'es256', 'es384', 'es512']))
        assert.deepEqual(new Set(records.map((r) => r.disabled)), new Set([true, false]))
        assert.ok(records.some((r) => r.sourceID === null) && records.some((r) => r.sourceID !== null))
        assert.ok(new Set(records.map((r) => r.created_at)).size > 100)
        assert.ok(records.some((r) => r.updated_at !== r.created_at))
        for (const record of records) {
          assert.ok(record.updated_at >= record.created_at)
          // Every seeded record is one the API itself would accept.
          const body = { ...record, service_instance_id: record.service_instance.id }
          const read = readBody(appOfferings, body, 'create')
          assert.ok(read.ok, JSON.stringify(read.errorList()))
        }
        // Seeding again adds, with fresh references.
        assert.equal((await cli(store, ['seed', '--account', account, '--offerings', '5', '--service-instance', String(records[0].service_instance.id)])).code, 0)
        assert.equal((await get('/v1/app_offerings')).headers['x-pagination-total-entries'], '305')
      } finally {
        await app.close()
      }
      const foreignSi = await cli(store, ['seed', '--account', account, '--offerings', '1', '--service-instance', '999999'])
      assert.notEqual(foreignSi.code, 0)
      assert.match(foreignSi.stderr, /no service instance 999999/)
      assert.notEqual((await cli(store, ['seed', '--account', 'nobody-here', '--offerings', '1'])).code, 0)
      assert.equal((await cli(store, ['seed', '--account', account, '--offerings', 'many'])).code, 2)
    })

    it('refuses to serve or migrate a database migrated by a newer version, in one line', async () => {
      await database.db.insertInto('kysely_migration' as never).values({ name: '999-from-the-future', timestamp: new Date().toISOString() } as never).execute()
      try {
        for (const args of [['serve'], ['migrate']]) {
          const res = await cli(store, args, { PORT: '0' })
          assert.equal(res.code, 1, args[0])
          assert.equal(res.stdout, '')
          const lines = res.stderr.trimEnd().split('\n')
          assert.equal(lines.length, 1, res.stderr)
          assert.match(lines[0], /^app-offerings: the database has migrations this server does not know \(999-from-the-future\)/)
        }
      } finally {
        await database.db.deleteFrom('kysely_migration' as never).where('name' as never, '=', '999-from-the-future' as never).execute()
      }
    })

    it('refuses a bad setting in one line naming it', async () => {
      const res = await cli(store, ['serve'], { PORT: 'eighty' })
      assert.equal(res.code, 2)
      assert.match(res.stderr, /^app-offerings: PORT: must be a whole number/)
      assert.equal(res.stderr.trimEnd().split('\n').length, 1)
    })

    it('refuses a folder for uploads it cannot write in, in one line naming ATTACHMENT_DIR', async () => {
      const res = await cli(store, ['serve'], { PORT: '0', ATTACHMENT_DIR: '/proc/no-such-dir/attachments' })
      assert.equal(res.code, 2, res.stderr)
      assert.match(res.stderr, /^app-offerings: ATTACHMENT_DIR: cannot write files in \/proc\/no-such-dir\/attachments \(E[A-Z]+\)\n$/)
    })
  })

  describe(`first start (${engine})`, () => {
    let store: TestStore
    before(async () => {
      store = await freshStore(engine)
    })
    after(async () => {
      await store.drop()
    })

    it('on an empty database creates account demo, prints a working token and a curl line once', async () => {
      const first = serve(store)
      let token = ''
      try {
        const { url } = await first.listening
        assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/)
        // The greeting is written to stderr before the 'listening' line; the pipes are separate.
        while (!first.stderr().includes('curl')) await new Promise((resolve) => setTimeout(resolve, 20))
        const printed = first.stderr()
        token = /^ {2}(ao_[A-Za-z0-9_-]{43})$/m.exec(printed)![1]
        assert.ok(printed.includes(`curl -H 'Authorization: Bearer ${token}' -H 'X-4me-Account: demo' ${url}/app_offerings`), printed)
        // The token appears in the greeting on stderr only, never in the JSON log on stdout.
        assert.equal(printed.split(token).length - 1, 2)
        assert.ok(!first.output().includes('First start'))
        assert.ok(!first.output().includes(token))

        const res = await fetch(`${url}/app_offerings`, { headers: { authorization: `Bearer ${token}`, 'x-4me-account': 'demo' } })
        assert.equal(res.status, 200)
        assert.deepEqual(await res.json(), [])
        const created = await fetch(`${url}/service_instances`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Demo services' }),
        })
        assert.equal(created.status, 201)
        assert.equal(created.headers.get('location'), `${url}/service_instances/${((await created.json()) as { id: number }).id}`)
      } finally {
        assert.equal(await first.stop(), 0)
      }

      const second = serve(store)
      try {
        const { url } = await second.listening
        assert.ok(token)
        assert.ok(!(second.output() + second.stderr()).includes('First start'))
        assert.ok(!/ao_[A-Za-z0-9_-]{43}/.test(second.output() + second.stderr()))
        const res = await fetch(`${url}/service_instances`, { headers: { authorization: `Bearer ${token}` } })
        assert.equal(((await res.json()) as Array<{ name: string }>)[0].name, 'Demo services')
      } finally {
        assert.equal(await second.stop(), 0)
      }
    })
  })

  if (engine === 'postgres') {
    describe('migrations in a PostgreSQL schema', () => {
      it('migrate a fresh schema beside another schema that has a migration table', async () => {
        const decoy = await freshStore('postgres')
        const decoyDb = decoy.open()
        const store = await freshStore('postgres')
        const database = store.open()
        try {
          await migrateToLatest(decoyDb)
          assert.equal((await cli(store, ['migrate'])).code, 0)
          assert.deepEqual(await migrateToLatest(database), [])
          const client = new pg.Client({ connectionString: store.url })
          await client.connect()
          const { rows } = await client.query('select count(*)::int as n from app_offerings')
          await client.end()
          assert.equal(rows[0].n, 0)
        } finally {
          await Promise.all([decoyDb.close(), database.close()])
          await Promise.all([decoy.drop(), store.drop()])
        }
      })
    })
  }
}

describe('help and usage errors', () => {
  // Help needs no database: one that does not answer proves it is never touched.
  const nowhere = { engine: 'postgres', url: 'postgres://postgres@127.0.0.1:5999/x' } as TestStore

  it('--help, -h and help print usage to stdout and exit 0, for every command and subcommand', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--help'], /^usage: app-offerings <command>/],
      [['help'], /^usage: app-offerings <command>/],
      [['help', 'tokens', 'revoke'], /^usage: app-offerings tokens revoke <token-id>/],
      [['serve', '--help'], /^usage: app-offerings serve \[--workers N\]/],
      [['migrate', '-h'], /^usage: app-offerings migrate/],
      [['accounts', 'list', '--help'], /^usage: app-offerings accounts list/],
      [['tokens', 'create', '--help'], /^usage: app-offerings tokens create --account <id>[^]*--person <name>/],
      [['tokens', 'help', 'list'], /^usage: app-offerings tokens list --account <id>/],
      [['worker', '--help'], /^usage: app-offerings worker\n\nSends the webhook deliveries/],
      [['help', 'worker'], /^usage: app-offerings worker/],
    ]
    for (const [args, usage] of cases) {
      const res = await cli(nowhere, args)
      assert.equal(res.code, 0, args.join(' '))
      assert.match(res.stdout, usage, args.join(' '))
      assert.equal(res.stderr, '', args.join(' '))
    }
  })

  it('usage errors exit 2 in one line saying what was wrong', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['frobnicate'], /^app-offerings: unknown command: frobnicate \(see: app-offerings --help\)\n$/],
      [['tokens', 'mint'], /^app-offerings: unknown command: tokens mint/],
      [['tokens', 'list', '--acount', 'x'], /^app-offerings: unknown option: --acount \(see: app-offerings tokens --help\)\n$/],
      [['accounts', 'create', 'wdc', '--name', '"Widget'], /^app-offerings: unbalanced quote in argument: "Widget/],
      [['migrate', 'now'], /^app-offerings: migrate: unexpected argument "now"/],
      [['tokens', 'create', '--account'], /^app-offerings: option --account needs a value/],
      [['worker', 'now'], /^app-offerings: worker: unexpected argument "now"/],
      [['worker', '--fast'], /^app-offerings: unknown option: --fast \(see: app-offerings worker --help\)/],
    ]
    for (const [args, message] of cases) {
      const res = await cli(nowhere, args)
      assert.equal(res.code, 2, args.join(' '))
      assert.equal(res.stdout, '', args.join(' '))
      assert.match(res.stderr, message, args.join(' '))
      assert.equal(res.stderr.trimEnd().split('\n').length, 1, res.stderr)
    }
    // An apostrophe inside a name is not a quote.
    assert.doesNotMatch((await cli(nowhere, ['accounts', 'create', 'ob', '--name', "O'Brien"])).stderr, /quote/)
    // Without a command: the usage, on stderr, exit 2.
    const bare = await cli(nowhere, [])
    assert.equal(bare.code, 2)
    assert.match(bare.stderr, /^usage: app-offerings <command>/)
  })
})

describe('the worker command', () => {
  let store: TestStore
  before(async () => {
    store = await freshStore('sqlite')
  })
  after(async () => {
    await store?.drop()
  })

  it('refuses a database that is not migrated, and a bad setting, in one line', async () => {
    const unmigrated = await cli(store, ['worker'])
    assert.equal(unmigrated.code, 1)
    assert.match(unmigrated.stderr, /^app-offerings: the database is not migrated to this version: run app-offerings migrate \(or serve\) first\n$/)
    const badTimeout = await cli(store, ['worker'], { WEBHOOK_TIMEOUT: '0' })
    assert.equal(badTimeout.code, 2)
    assert.equal(badTimeout.stderr, 'app-offerings: WEBHOOK_TIMEOUT: must be between 1 and 300, got 0\n')
  })

  it('runs on a migrated database until SIGTERM, then stops with status 0', async () => {
    assert.equal((await cli(store, ['migrate'])).code, 0)
    const child = spawn(process.execPath, [command(), 'worker'], { env: { ...process.env, DATABASE_URL: store.url, LOG_LEVEL: 'info', SECRET_KEY: 'worker-secret-key-0123456789abcdefghij' } })
    let stdout = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    const deadline = Date.now() + 30_000
    while (!stdout.includes('webhook worker started')) {
      assert.ok(Date.now() < deadline, stdout)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    assert.match(stdout, /"issuer":"http:\/\/127\.0\.0\.1:3000\/accounts\/\{account\}"/)
    child.kill('SIGTERM')
    const [code] = await once(child, 'exit')
    assert.equal(code, 0)
    assert.match(stdout, /"msg":"webhook worker stopped"/)
  })
})

describe('start-up errors name the setting and the file or host', () => {
  const at = (url: string) => ({ engine: 'sqlite', url }) as TestStore

  it('a SQLite file that cannot be opened or created', async () => {
    for (const args of [['migrate'], ['serve']]) {
      const res = await cli(at('sqlite:/proc/x.db'), args, { PORT: '0' })
      assert.equal(res.code, 1, args.join(' '))
      assert.match(res.stderr, /^app-offerings: DATABASE_URL: cannot open sqlite:\/proc\/x\.db \(unable to open database file/, args.join(' '))
      assert.equal(res.stderr.trimEnd().split('\n').length, 1, res.stderr)
    }
    const underFile = await cli(at(`sqlite:${command()}/x.db`), ['migrate'])
    assert.equal(underFile.code, 1)
    assert.match(underFile.stderr, /^app-offerings: DATABASE_URL: cannot create the folder of sqlite:.*app-offerings\.js\/x\.db \((EEXIST|ENOTDIR)/)
  })

  it('a PostgreSQL that does not answer', async () => {
    for (const args of [['migrate'], ['serve']]) {
      const res = await cli(at('postgres://postgres@127.0.0.1:5999/x'), args, { PORT: '0' })
      assert.equal(res.code, 1, args.join(' '))
      assert.equal(res.stderr, 'app-offerings: DATABASE_URL: PostgreSQL at 127.0.0.1:5999 does not answer (ECONNREFUSED)\n')
    }
  })
})
