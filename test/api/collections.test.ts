// conventions.md §3–6 through HTTP: every filter operator, predefined filters, fields, sorting,
// the Link and X-Pagination-* headers, and walking pages in both directions.
import assert from 'node:assert/strict'
import { encodeNodeId } from '../../src/catalogue/node-id.ts'
import { before, describe, it } from 'node:test'
import type { Kysely } from 'kysely'
import { engines } from '../support/stores.ts'
import { useHarness, type TestAccount } from '../support/harness.ts'
import { serviceInstance, serviceInstanceReference } from '../support/offerings.ts'
import { links, offering, ORIGIN, pagination, walk } from '../support/collections.ts'

const COLLECTION_FIELDS = [
  'created_at', 'id', 'name', 'nodeID', 'policy_jwt_alg', 'policy_jwt_audience', 'policy_jwt_claim_expires_in',
  'reference', 'service_instance', 'sourceID', 'updated_at', 'webhook_uri_template',
]

const at = (iso: string) => Date.parse(iso) / 1000

for (const engine of engines) {
  describe(`collections: filters (${engine})`, () => {
    const h = useHarness(engine)
    let account: TestAccount
    const id: Record<string, number> = {}

    before(async () => {
      account = await h().account()
      const si = await serviceInstance(account)
      const fixtures: Array<[string, Record<string, unknown>, string]> = [
        ['A', { name: 'Alpha', sourceID: 'ext-1', disabled: false, source: 'alpha-src', reference: `${account.id}_alpha` }, '2024-01-01T00:00:00Z'],
        ['B', { name: 'Beta', disabled: 'true' }, '2024-01-02T12:00:00Z'],
        ['C', { name: '<b>', disabled: 'no' }, '2024-01-03T00:00:00Z'],
        ['D', { name: 'a,b', sourceID: 'ext-2', disabled: true }, '2024-02-01T00:00:00Z'],
        ['E', { name: '!bang' }, '2024-03-01T00:00:00Z'],
      ]
      const db = h().database.db as Kysely<any>
      for (const [letter, fields, created] of fixtures) {
        id[letter] = (await offering(account, si, fields)).id
        // Creation times the test can filter on, set before the account's first list.
        await db.updateTable('app_offerings').set({ created_at: at(created) }).where('id', '=', id[letter]).execute()
      }
    })

    /** The letters of the records a filter query lists. */
    async function matches(query: string): Promise<string> {
      const res = await account.call('GET', `/v1/app_offerings?per_page=100&${query}`)
      assert.equal(res.statusCode, 200, `${query}: ${res.body}`)
      const byId = new Map(Object.entries(id).map(([letter, n]) => [n, letter]))
      const found = (res.json() as Array<{ id: number }>).map((r) => byId.get(r.id)).sort().join(' ')
      assert.equal(pagination(res).totalEntries, found === '' ? 0 : found.split(' ').length, `${query}: count`)
      return found
    }

    const cases = (): Array<[string, string]> => [
      ['name=Alpha', 'A'],
      ['name=!Alpha', 'B C D E'],
      ['name!=Alpha', 'B C D E'],
      ['name=%21Alpha', 'B C D E'],
      ['name%21=Alpha', 'B C D E'],
      ['sourceID=', 'B C E'],
      ['sourceID=!', 'A D'],
      ['sourceID!=', 'A D'],
      ['sourceID=ext-2', 'D'],
      ['name=<b>', 'C'],
      ['name=%3Cb%3E', 'C'],
      ['name=a,b', 'D'],
      ['name=a%2Cb', 'D'],
      ['name=\\!bang', 'E'],
      ['name=%5C%21bang', 'E'],
      ['name=!bang', 'A B C D E'],
      ['name=!\\!bang', 'A B C D'],
      ['name=alpha', ''],
      ['source=alpha-src', 'A'],
      [`reference=${account.id}_alpha`, 'A'],
      [`reference=${account.id}_alph`, ''],
      ['disabled=true', 'B D'],
      ['disabled=YES', 'B D'],
      ['disabled=1', 'B D'],
      ['disabled=on', 'B D'],
      ['disabled=false', 'A C E'],
      ['disabled=whatever', 'A C E'],
      ['disabled!=true', 'A C E'],
      ['disabled=!', 'A B C D E'],
      [`id=${id.A},${id.C}`, 'A C'],
      [`id=${id.A}%2C${id.C}`, 'A C'],
      [`id=!${id.A},${id.C}`, 'B D E'],
      [`id!=${id.A},${id.C}`, 'B D E'],
      [`id=${id.B}`, 'B'],
      [`id=!${id.B}`, 'A C D E'],
      [`id=>${id.B}`, 'C D E'],
      [`id=%3E${id.B}`, 'C D E'],
      [`id=<${id.B}`, 'A'],
      [`id=<=${id.B}`, 'A B'],
      [`id=>=${id.B}<=${id.D}`, 'B C D'],
      [`id=%3E%3D${id.B}%3C%3D${id.D}`, 'B C D'],
      [`id=>${id.B}<${id.D}`, 'C'],
      ['created_at=2024-01-03', 'C'],
      ['created_at=2024-01-03T00:00:00Z', 'C'],
      ['created_at=2024-01-03T01:00:00+01:00', 'C'],
      ['created_at=2024-01-03T01:00:00%2B01:00', 'C'],
      ['created_at=2024-01-02T19:00:00-05:00', 'C'],
      ['created_at=!2024-01-03', 'A B D E'],
      ['created_at=>2024-01-02T00:00:00Z', 'B C D E'],
      ['created_at=%3E2024-01-02T00%3A00%3A00%2B00%3A00', 'B C D E'],
      ['created_at=>=2024-01-02<2024-02-01', 'B C'],
      ['created_at=<2024-01-02T13:00:00+01:00', 'A'],
      ['created_at=<=2024-01-02T13:00:00+01:00', 'A B'],
      ['disabled=false&created_at=>2024-01-01', 'C E'],
      ['name!=&sourceID=!', 'A D'],
      ['created_at=>2024-01-01&created_at=<2024-02-15', 'B C D'],
    ]

    it('answers every operator in every encoding', async () => {
      for (const [query, expected] of cases()) assert.equal(await matches(query), expected, query)
    })

    it('refuses what is not filterable, sortable or selectable with the spec body', async () => {
      const refusals: Array<[string, string]> = [
        ['color=red', 'Filtering not allowed on fields: color'],
        ['description=x&color=red', 'Filtering not allowed on fields: description, color'],
        ['id=abc', 'Invalid filter value for id: abc'],
        ['id=%3Eabc', 'Invalid filter value for id: >abc'],
        ['created_at=2024-13-01', 'Invalid filter value for created_at: 2024-13-01'],
        ['created_at=1,2', 'Invalid filter value for created_at: 1,2'],
        ['sort=reference,-disabled', 'Sorting not allowed on fields: reference, disabled'],
        ['fields=name,secret', 'Unknown fields: secret'],
        ['fields=compliance_attachments', 'Unknown fields: compliance_attachments'],
        ['per_page=0', 'per_page must be a whole number of at least 1'],
        ['per_page=-1', 'per_page must be a whole number of at least 1'],
        ['page=0', 'page must be a whole number of at least 1'],
        ['search_after=nonsense', 'Invalid cursor in search_after'],
        ['name=%ZZ', 'Invalid query string: malformed percent-encoding'],
      ]
      for (const [query, message] of refusals) {
        for (const path of ['/v1/app_offerings', '/v1/app_offerings/latest_internal']) {
          const res = await account.call('GET', `${path}?${query}`)
          assert.equal(res.statusCode, 400, `${query}: ${res.body}`)
          assert.match(String(res.headers['content-type']), /^application\/json; charset=utf-8$/)
          assert.deepEqual(res.json(), { message }, query)
        }
      }
    })

    it('filters service instances by status, one of, none of, and through active/inactive', async () => {
      const other = await h().account()
      const made: Record<string, number> = {}
      for (const [name, status] of [['Mail', 'in_production'], ['Chat', 'being_prepared'], ['Fax', 'discontinued'], ['Web', 'in_production']]) {
        made[name] = (await other.call('POST', '/v1/service_instances', { name, status })).json().id
      }
      const names = async (path: string) => {
        const res = await other.call('GET', path)
        assert.equal(res.statusCode, 200, `${path}: ${res.body}`)
        return (res.json() as Array<{ name: string }>).map((r) => r.name).join(' ')
      }
      assert.equal(await names('/v1/service_instances?status=in_production'), 'Mail Web')
      assert.equal(await names('/v1/service_instances?status=being_prepared,discontinued'), 'Chat Fax')
      assert.equal(await names('/v1/service_instances?status=!being_prepared%2Cdiscontinued'), 'Mail Web')
      assert.equal(await names('/v1/service_instances?status!=in_production'), 'Chat Fax')
      assert.equal(await names('/v1/service_instances/active'), 'Mail Web')
      assert.equal(await names('/v1/service_instances/inactive'), 'Chat Fax')
      assert.equal(await names('/v1/service_instances/active?name=!Mail'), 'Web')
      const res = await other.call('GET', '/v1/service_instances/inactive?sort=-name&fields=status')
      assert.deepEqual(res.json(), [
        { id: made.Fax, nodeID: encodeNodeId('localhost', 'ServiceInstance', made.Fax), status: 'discontinued' },
        { id: made.Chat, nodeID: encodeNodeId('localhost', 'ServiceInstance', made.Chat), status: 'being_prepared' },
      ])
      assert.equal(await names(`/v1/service_instances/active?id=${made.Chat}`), '')
      assert.deepEqual((await other.call('GET', '/v1/service_instances?status=live')).json(), { message: 'Invalid filter value for status: live' })
    })
  })

  describe(`collections: predefined filters, fields, sort (${engine})`, () => {
    const h = useHarness(engine)

    it('serves latest_internal (every draft) with every query parameter, and 404 for an unknown filter', async () => {
      const account = await h().account()
      const si = await serviceInstance(account)
      const made = []
      for (const name of ['Delta', 'Alpha', 'Charlie', 'Bravo']) made.push(await offering(account, si, { name }))
      const plain = await account.call('GET', '/v1/app_offerings')
      const internal = await account.call('GET', '/v1/app_offerings/latest_internal')
      assert.equal(internal.statusCode, 200)
      assert.deepEqual(internal.json(), plain.json())
      assert.deepEqual(pagination(internal), pagination(plain))

      const res = await account.call('GET', '/v1/app_offerings/latest_internal?name=!Alpha&sort=-name&fields=name&per_page=2')
      assert.deepEqual(res.json(), [
        { id: made[0].id, nodeID: made[0].nodeID, name: 'Delta' },
        { id: made[2].id, nodeID: made[2].nodeID, name: 'Charlie' },
      ])
      const next = links(res).next
      assert.match(next, /^\/v1\/app_offerings\/latest_internal\?name=%21Alpha&sort=-name&fields=name&per_page=2&search_after=/)
      assert.deepEqual((await account.call('GET', next)).json(), [{ id: made[3].id, nodeID: made[3].nodeID, name: 'Bravo' }])

      for (const path of ['/v1/app_offerings/latest_nonsense', '/v1/app_offerings/all_the_things?name=x', '/v1/service_instances/retired']) {
        const unknown = await account.call('GET', path)
        assert.equal(unknown.statusCode, 404, path)
        assert.deepEqual(unknown.json(), { message: 'Not Found' })
      }
      // The filter is never read as an id, nor an id as a filter.
      assert.equal((await account.call('GET', `/v1/app_offerings/${made[1].id}`)).json().name, 'Alpha')
      assert.equal((await account.call('GET', `/v1/app_offerings/${made[1].nodeID}`)).json().name, 'Alpha')
      assert.equal((await account.call('PATCH', '/v1/app_offerings/latest_internal', { name: 'x' })).statusCode, 404)
    })

    it('renders the collection fields by default, and exactly the selected ones with id and nodeID', async () => {
      const account = await h().account()
      const si = await serviceInstance(account, 'Mail')
      const made = await offering(account, si, { name: 'Solo', card_description: 'card', sourceID: 'S-1' })
      const one = async (query: string) => {
        const res = await account.call('GET', `/v1/app_offerings?${query}`)
        assert.equal(res.statusCode, 200, res.body)
        return res.json()[0]
      }
      const all = await one('')
      assert.deepEqual(Object.keys(all).sort(), COLLECTION_FIELDS)
      assert.deepEqual(all.service_instance, serviceInstanceReference(si, 'Mail'))
      assert.equal(all.nodeID, made.nodeID)
      assert.deepEqual(await one('fields=name'), { id: made.id, nodeID: made.nodeID, name: 'Solo' })
      assert.deepEqual(await one('fields=nodeID'), { id: made.id, nodeID: made.nodeID })
      assert.deepEqual(await one('fields=card_description,service_instance,disabled'), {
        id: made.id,
        nodeID: made.nodeID,
        service_instance: serviceInstanceReference(si, 'Mail'),
        card_description: 'card',
        disabled: false,
      })
      assert.deepEqual(await one('fields=description,attachments,picture_uri'), { id: made.id, nodeID: made.nodeID, description: null, picture_uri: null, attachments: [] })
      assert.deepEqual(await one('fields=id'), { id: made.id, nodeID: made.nodeID })
    })

    it('marks a disabled record "disabled": true in any collection, whatever the fields', async () => {
      const account = await h().account()
      const si = await serviceInstance(account)
      const on = await offering(account, si, { name: 'On' })
      const off = await offering(account, si, { name: 'Off', disabled: true })
      const list = (await account.call('GET', '/v1/app_offerings?fields=name')).json()
      assert.deepEqual(list, [
        { id: off.id, nodeID: off.nodeID, name: 'Off', disabled: true },
        { id: on.id, nodeID: on.nodeID, name: 'On' },
      ])
      assert.deepEqual(Object.keys((await account.call('GET', '/v1/app_offerings?sort=-name')).json()[1]).includes('disabled'), true, 'a disabled one')
      assert.equal((await account.call('GET', '/v1/app_offerings?fields=disabled&sort=-name')).json()[0].disabled, false, 'asked for: false is shown too')
    })

    it('sorts by several keys in both directions, ties by id, in code point order with blanks first', async () => {
      const account = await h().account()
      const si = await serviceInstance(account)
      const names = ['b', 'B', 'a', 'Z', 'é', '_x', '10', '9', 'b', 'a']
      const made: any[] = []
      for (const [i, name] of names.entries()) made.push(await offering(account, si, { name, sourceID: i % 3 === 0 ? '' : `s${i % 4}` }))
      const list = async (query: string) => {
        const res = await account.call('GET', `/v1/app_offerings?per_page=100&${query}`)
        assert.equal(res.statusCode, 200, res.body)
        return (res.json() as Array<{ id: number }>).map((r) => r.id)
      }
      // JavaScript's default string order is code point order for these characters.
      const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
      const by = (...keys: Array<[(r: any) => string | number, 1 | -1]>) =>
        [...made]
          .sort((x, y) => {
            for (const [key, dir] of keys) {
              const a = key(x)
              const b = key(y)
              const c = typeof a === 'number' ? (a as number) - (b as number) : cmp(a as string, b as string)
              if (c !== 0) return dir * c
            }
            return x.id - y.id
          })
          .map((r) => r.id)
      const name = (r: any) => r.name as string
      const sourceID = (r: any) => (r.sourceID ?? '') as string
      assert.deepEqual(await list(''), by([name, 1]))
      assert.deepEqual(await list('sort=name'), by([name, 1]))
      assert.deepEqual(await list('sort=-name'), by([name, -1]))
      assert.deepEqual(await list('sort=sourceID,-name'), by([sourceID, 1], [name, -1]))
      assert.deepEqual(await list('sort=-sourceID,name'), by([sourceID, -1], [name, 1]))
      assert.deepEqual(await list('sort=-id'), [...made].map((r) => r.id).reverse())
      assert.deepEqual(await list('sort=created_at'), by([(r) => Date.parse(r.created_at), 1]))
      // A blank sourceID (null) sorts first ascending and last descending.
      const firstAsc = (await list('sort=sourceID&fields=sourceID'))[0]
      assert.equal(made.find((r) => r.id === firstAsc).sourceID, null)
      const lastDesc = (await list('sort=-sourceID')).at(-1)
      assert.equal(made.find((r) => r.id === lastDesc).sourceID, null)
    })
  })

  describe(`collections: pagination (${engine})`, () => {
    const h = useHarness(engine)
    let account: TestAccount
    let si: number
    const ids: number[] = []

    before(async () => {
      account = await h().account()
      si = await serviceInstance(account)
      // 13 records: pages of 5 are 5, 5, 3. Names repeat so that ties by id matter.
      for (let i = 0; i < 13; i++) ids.push((await offering(account, si, { name: `Offering ${i % 4}`, sourceID: `s,${i}` })).id)
    })

    it('pages 20 by default and 100 at most, with the four X-Pagination headers', async () => {
      const res = await account.call('GET', '/v1/app_offerings')
      assert.deepEqual(pagination(res), { perPage: 20, currentPage: 1, totalPages: 1, totalEntries: 13, throttled: false })
      assert.equal(res.headers.link, undefined)
      const capped = await account.call('GET', '/v1/app_offerings?per_page=1000')
      assert.deepEqual(pagination(capped), { perPage: 100, currentPage: 1, totalPages: 1, totalEntries: 13, throttled: false })
      assert.equal(capped.json().length, 13)
      assert.equal(capped.headers['x-pagination-throttled'], undefined)
    })

    it('writes the Link header exactly: absolute, first/prev/next only, every parameter kept and encoded', async () => {
      const query = 'sort=-name&fields=name,sourceID&sourceID=!&per_page=5&name=!x%2Cy'
      const first = await account.call('GET', `/v1/app_offerings?${query}`)
      const header = String(first.headers.link)
      assert.match(header, /^<http:\/\/localhost:80\/v1\/app_offerings\?sort=-name&fields=name%2CsourceID&sourceID=%21&per_page=5&name=%21x%2Cy&search_after=[A-Za-z0-9_.%-]+>; rel="next"$/)
      assert.deepEqual(Object.keys(links(first)), ['next'])
      const second = await account.call('GET', links(first).next)
      assert.deepEqual(Object.keys(links(second)), ['first', 'prev', 'next'])
      assert.equal(links(second).first, '/v1/app_offerings?sort=-name&fields=name%2CsourceID&sourceID=%21&per_page=5&name=%21x%2Cy')
      assert.match(links(second).prev, /&search_before=/)
      assert.ok(!String(second.headers.link).includes('rel="last"'))
      assert.ok(String(second.headers.link).startsWith(`<${ORIGIN}/v1/app_offerings?`))
      const last = await account.call('GET', links(second).next)
      assert.deepEqual(Object.keys(links(last)), ['first', 'prev'])
    })

    it('walks every page forward and back with filters, fields and sort kept, counting pages up and down', async () => {
      for (const query of ['per_page=5', 'per_page=5&sort=-name&fields=name', 'per_page=4&sort=sourceID,-id&id=!' + ids[3], 'per_page=5&sort=-created_at']) {
        const all = (await account.call('GET', `/v1/app_offerings?${query.replace(/per_page=\d/, 'per_page=100')}`)).json().map((r: { id: number }) => r.id)
        const forward = await walk(account, `/v1/app_offerings?${query}`, 'next')
        assert.deepEqual(forward.ids, all, query)
        assert.deepEqual(forward.pages.map((p) => p.currentPage), forward.pages.map((_, i) => i + 1))
        const keys = (await account.call('GET', forward.pages.at(-1)!.url)).json().map((r: object) => Object.keys(r).sort().join())
        if (query.includes('fields=name')) assert.deepEqual(new Set(keys), new Set(['id,name,nodeID']))
        const back = await walk(account, forward.pages.at(-1)!.url, 'prev')
        assert.deepEqual(back.pages.map((p) => p.currentPage), forward.pages.map((p) => p.currentPage).reverse())
        assert.deepEqual(back.pages.map((p) => p.ids), forward.pages.map((p) => p.ids).reverse(), query)
        for (const page of [...forward.pages.slice(1), ...back.pages]) {
          for (const kept of query.split('&')) assert.ok(page.url.includes(kept.replace(',', '%2C').replace('!', '%21')), `${page.url} keeps ${kept}`)
        }
      }
    })

    it('serves legacy page=N with page-based links, and 200 [] past the end', async () => {
      const res = await account.call('GET', '/v1/app_offerings?page=2&per_page=5&fields=name')
      assert.deepEqual(pagination(res), { perPage: 5, currentPage: 2, totalPages: 3, totalEntries: 13, throttled: false })
      assert.deepEqual(links(res), {
        first: '/v1/app_offerings?per_page=5&fields=name&page=1',
        prev: '/v1/app_offerings?per_page=5&fields=name&page=1',
        next: '/v1/app_offerings?per_page=5&fields=name&page=3',
      })
      const pages = await walk(account, '/v1/app_offerings?page=1&per_page=5', 'next')
      assert.deepEqual(pages.pages.map((p) => p.currentPage), [1, 2, 3])
      const cursorIds = (await walk(account, '/v1/app_offerings?per_page=5', 'next')).ids
      assert.deepEqual(pages.ids, cursorIds)
      const past = await account.call('GET', '/v1/app_offerings?page=9&per_page=5')
      assert.equal(past.statusCode, 200)
      assert.deepEqual(past.json(), [])
      assert.deepEqual(pagination(past), { perPage: 5, currentPage: 9, totalPages: 3, totalEntries: 13, throttled: false })
      assert.equal(links(past).next, undefined)
      const empty = await account.call('GET', '/v1/app_offerings?name=nobody')
      assert.deepEqual(empty.json(), [])
      assert.deepEqual(pagination(empty), { perPage: 20, currentPage: 1, totalPages: 0, totalEntries: 0, throttled: false })
      assert.equal(empty.headers.link, undefined)
    })

    it('refuses a cursor with page, or with another sort than its own', async () => {
      const next = links(await account.call('GET', '/v1/app_offerings?per_page=5&sort=-name')).next
      const cursor = /search_after=([^&]+)/.exec(next)![1]
      for (const [query, message] of [
        [`search_after=${cursor}&page=2`, 'A cursor (search_after, search_before) cannot be combined with page'],
        [`search_after=${cursor}`, 'The cursor in search_after belongs to another sort order'],
        [`search_after=${cursor}&sort=name`, 'The cursor in search_after belongs to another sort order'],
        [`search_before=${cursor}&sort=-name,created_at`, 'The cursor in search_before belongs to another sort order'],
        [`search_after=${cursor.slice(0, -3)}AAA&sort=-name`, 'Invalid cursor in search_after'],
      ]) {
        const res = await account.call('GET', `/v1/app_offerings?${query}`)
        assert.equal(res.statusCode, 400, query)
        assert.deepEqual(res.json(), { message }, query)
      }
      assert.equal((await account.call('GET', `/v1/app_offerings?search_before=${cursor}&sort=-name`)).statusCode, 200)
    })

    it('never skips or repeats a record while records are created during the walk', async () => {
      const walker = await h().account()
      const wsi = await serviceInstance(walker)
      const original: number[] = []
      for (let i = 0; i < 12; i++) original.push((await offering(walker, wsi, { name: `M${String(i).padStart(2, '0')}` })).id)
      let n = 0
      // After every page: one record that sorts before everything, one after, one in the middle.
      const forward = await walk(walker, '/v1/app_offerings?per_page=4', 'next', async () => {
        n++
        for (const name of [`A${n}`, `Z${n}`, `M05x${n}`]) await offering(walker, wsi, { name })
      })
      assert.equal(new Set(forward.ids).size, forward.ids.length, 'a record was repeated')
      for (const id of original) assert.ok(forward.ids.includes(id), `record ${id} was skipped`)
      const back = await walk(walker, forward.pages.at(-1)!.url, 'prev', async () => {
        await offering(walker, wsi, { name: `B${++n}` })
      })
      assert.equal(new Set(back.ids).size, back.ids.length, 'a record was repeated walking back')
      for (const id of original) assert.ok(back.ids.includes(id), `record ${id} was skipped walking back`)
    })

    it('never shows or counts the records of another account', async () => {
      const other = await h().account()
      const osi = await serviceInstance(other)
      for (let i = 0; i < 3; i++) await offering(other, osi, { name: `Offering ${i}` })
      const mine = await account.call('GET', '/v1/app_offerings?per_page=100')
      assert.equal(pagination(mine).totalEntries, 13)
      assert.deepEqual(mine.json().map((r: { id: number }) => r.id).sort((a: number, b: number) => a - b), ids)
      const theirs = await other.call('GET', '/v1/app_offerings/latest_internal?name=!')
      assert.equal(pagination(theirs).totalEntries, 3)
      assert.ok(theirs.json().every((r: { id: number }) => !ids.includes(r.id)))
      assert.deepEqual((await other.call('GET', `/v1/app_offerings?id=${ids.join(',')}`)).json(), [])
    })
  })
}
