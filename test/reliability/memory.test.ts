// Memory a tenant cannot pin (issue 11, item 1). Offerings as large as the catalogue allows (a
// 2 MiB picture as a data: URL, three 64 KB texts), listed with every large field in several
// query-string variants: kept answers are bounded in bytes and a page is bounded by what its
// records can render to, so a server with a small heap answers them all and holds little
// afterwards. Before, each variant kept ~115 MiB and a 1 GiB heap died on the fourth.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { Client, provision, spawnServer, type ServerProcess, type Tenant } from '../support/server-process.ts'
import { freshStore, type TestStore } from '../support/stores.ts'

const OFFERINGS = 12
const HEAP_MB = 192

/** Resident memory of a process, in MiB. */
function residentMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!
  return Number(/(\d+)/.exec(line)![1]) / 1024
}

describe('memory: large records listed in many variants (sqlite)', () => {
  let store: TestStore
  let server: ServerProcess
  let tenant: Tenant
  let client: Client

  before(async () => {
    store = await freshStore('sqlite')
    ;[tenant] = await provision(store, 1)
    server = await spawnServer(store.url, { NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}` })
    client = new Client(server.origin, tenant.token, 4)
  })

  after(async () => {
    await client?.close()
    await server?.stop()
    await store?.drop()
  })

  it('answers every variant with pages bounded by their fields, and keeps the process small', async () => {
    const si = await client.call('POST', '/v1/service_instances', { name: 'Big' })
    assert.equal(si.status, 201, si.text)
    // A 2 MiB PNG as a data: URL, and texts of 64 KB (as large as each field allows).
    const image = Buffer.alloc(2 * 1024 * 1024 - 3, 7)
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(image) // the PNG signature: pictures are sniffed
    const picture = `data:image/png;base64,${image.toString('base64')}`
    const text = 'x'.repeat(65_535)
    for (let i = 0; i < OFFERINGS; i++) {
      const created = await client.call('POST', '/v1/app_offerings', {
        name: `Large ${i}`,
        service_instance_id: si.json().id,
        policy_jwt_alg: 'es256',
        webhook_uri_template: 'https://hooks.example.com/{account}',
        picture_uri: picture,
        description: text,
        features: text,
        compliance: text,
      })
      assert.equal(created.status, 201, created.text.slice(0, 200))
    }
    const fields = 'fields=picture_uri,description,features,compliance'
    for (const variant of ['', '&sort=name', '&sort=name,id', '&sort=-name', '&sort=-id', '&sort=created_at', '&sort=-created_at', '&sort=updated_at']) {
      const res = await client.call('GET', `/v1/app_offerings?per_page=100&${fields}${variant}`)
      assert.equal(res.status, 200)
      const records = res.json()
      assert.ok(records.length <= 4, `a page with every large field holds at most 4 records (got ${records.length})`)
      assert.equal(res.headers['x-pagination-per-page'], String(records.length))
      assert.equal(res.headers['x-pagination-total-entries'], String(OFFERINGS))
      assert.match(String(res.headers.link), /rel="next"/)
    }
    assert.equal(server.child.exitCode, null, 'the server is still running')
    const resident = residentMiB(server.child.pid!)
    assert.ok(resident < HEAP_MB + 160, `the process holds ${resident.toFixed(0)} MiB after the variants`)
  })
})
