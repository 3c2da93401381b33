// The official Ruby SDK's attachment helper, unchanged, against a real server process: it asks for
// storage, uploads each file as multipart (fields, then the file under its full path), and posts
// the record with the keys it got back, marking the image its text refers to as inline.
//
// Needs `ruby` and the SDK's lib folder (4me-sdk-ruby, with its gems activesupport, mime-types and
// gem_config on the load path) named by RUBY_SDK4ME_LIB, colon-separated; skipped otherwise. The
// same request, byte for byte, is replayed without Ruby in test/api/attachments.test.ts.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { Client, provision, spawnServer, type ServerProcess, type Tenant } from '../support/server-process.ts'
import { freshStore, type TestStore } from '../support/stores.ts'
import { PNG } from '../support/uploads.ts'

const run = promisify(execFile)
const libs = process.env.RUBY_SDK4ME_LIB?.split(':').filter(Boolean) ?? []
const rubyThere = await run('ruby', ['-v']).then(() => true, () => false)
const skip = libs.length === 0 || !rubyThere ? 'needs ruby and RUBY_SDK4ME_LIB (the 4me-sdk-ruby lib folder and its gems)' : false

describe('the official Ruby SDK uploads attachments unchanged', { skip }, () => {
  let store: TestStore
  let server: ServerProcess
  let tenant: Tenant
  let client: Client
  let dir: string

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'app-offerings-ruby-'))
    store = await freshStore('sqlite')
    ;[tenant] = await provision(store, 1)
    server = await spawnServer(store.url, { ATTACHMENT_DIR: join(dir, 'store') })
    client = new Client(server.origin, tenant.token, 2)
  })

  after(async () => {
    await client?.close()
    await server?.stop()
    await store?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('creates the record with its attachments, which download as they were', async () => {
    const files = join(dir, 'files')
    const contents: Record<string, Buffer> = { 'diagram.png': PNG, 'terms.pdf': Buffer.from('%PDF-1.4 terms'), 'notes 我.txt': Buffer.from('plain notes\n') }
    mkdirSync(files)
    for (const [name, bytes] of Object.entries(contents)) writeFileSync(join(files, name), bytes)
    const si = (await client.call('POST', '/v1/service_instances', { name: 'Mail' })).json()

    const { stdout } = await run('ruby', [...libs.flatMap((lib) => ['-I', lib]), new URL('./ruby-sdk.rb', import.meta.url).pathname], {
      env: { ...process.env, API_HOST: server.origin, API_TOKEN: tenant.token, API_ACCOUNT: tenant.id, SERVICE_INSTANCE_ID: String(si.id), FILES_DIR: files },
    })
    const answer = JSON.parse(stdout.trim().split('\n').at(-1)!)
    assert.equal(answer.status, 201, stdout)
    assert.equal(answer.valid, true, answer.message)
    const record = answer.body
    assert.deepEqual(record.attachments.map((a: any) => [a.name, a.field, a.inline, a.size]), [
      ['diagram.png', 'description', true, PNG.length],
      ['terms.pdf', 'description', false, contents['terms.pdf'].length],
      ['notes 我.txt', 'features', false, contents['notes 我.txt'].length],
    ])
    assert.equal(record.description, `Look: ![](${record.attachments[0].uri}), and the terms.`)
    for (const attachment of record.attachments) {
      const res = await client.pool.request({ method: 'GET', path: new URL(attachment.uri).pathname, headers: { authorization: `Bearer ${tenant.token}` } })
      const bytes = Buffer.from(await res.body.arrayBuffer())
      assert.equal(res.statusCode, 200)
      assert.equal(createHash('sha256').update(bytes).digest('hex'), createHash('sha256').update(contents[attachment.name]).digest('hex'), attachment.name)
    }
  })
})
