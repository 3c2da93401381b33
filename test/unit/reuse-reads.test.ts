// What records/reuse.ts decides without the database: reuse keeps an answer only for a URL asked
// again while remembered (the memory of recent keys must say "seen" for a repeat, "new" for a
// first request, and forget old keys so it stays bounded), and a page that ends the collection
// gives the count without counting.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Row } from '../../src/catalogue/resource.ts'
import type { Paging, Plan } from '../../src/query/parse.ts'
import type { Presenter } from '../../src/records/present.ts'
import { CollectionReader, endingTotal } from '../../src/records/reuse.ts'
import type { RecordStore } from '../../src/records/store.ts'
import { RecentKeys } from '../../src/storage/recent-keys.ts'

describe('RecentKeys', () => {
  it('knows a key from its second request on', () => {
    const recent = new RecentKeys(4)
    assert.equal(recent.remember('acme\n\nsort=name'), false)
    assert.equal(recent.remember('acme\n\nsort=name'), true)
    assert.equal(recent.remember('acme\n\nsort=-name'), false, 'another query string is another key')
    assert.equal(recent.remember('other\n\nsort=name'), false, 'another account is another key')
  })

  it('still knows a key one generation later, and forgets it after two', () => {
    const recent = new RecentKeys(4)
    recent.remember('kept')
    for (let i = 0; i < 4; i++) recent.remember(`a${i}`)
    assert.equal(recent.remember('kept'), true, 'in the previous generation')
    const fresh = new RecentKeys(4)
    fresh.remember('gone')
    for (let i = 0; i < 12; i++) fresh.remember(`b${i}`)
    assert.equal(fresh.remember('gone'), false, 'two generations later')
  })
})

describe('endingTotal', () => {
  const rows = (n: number): Row[] => Array.from({ length: n }, (_, i) => ({ id: i + 1 }))
  const plan = (paging: Paging): Plan => ({ perPage: 20, paging }) as unknown as Plan
  const page = (n: number, hasNext: boolean) => ({ rows: rows(n), info: { page: 1, hasNext, hasPrev: false } })
  const cases: Array<[string, Paging, number, boolean, number | undefined]> = [
    ['a first page with room to spare', { kind: 'first' }, 3, false, 3],
    ['an empty first page', { kind: 'first' }, 0, false, 0],
    ['a full first page with more after it', { kind: 'first' }, 20, true, undefined],
    ['the last page by number', { kind: 'page', page: 4 }, 7, false, 67],
    ['page 1 by number, empty', { kind: 'page', page: 1 }, 0, false, 0],
    ['a page by number past the end (the pages before it may not be full)', { kind: 'page', page: 9 }, 0, false, undefined],
    ['a page by number with more after it', { kind: 'page', page: 2 }, 20, true, undefined],
    ['a cursor page (its count comes with the cursor or is counted)', { kind: 'cursor', direction: 'after', boundary: [1], page: 3 } as Paging, 5, false, undefined],
  ]
  for (const [name, paging, n, hasNext, expected] of cases) {
    it(name, () => assert.equal(endingTotal(plan(paging), page(n, hasNext)), expected))
  }
})

describe('CollectionReader: which answers are kept', () => {
  /** A store that says what it was asked, and a page of one record that ends the collection. */
  function reader(keepAfter?: number) {
    const calls: string[] = []
    const store = {
      resource: { name: 'things' },
      watermark: async () => (calls.push('watermark'), { value: '7', settled: true }),
      page: async () => (calls.push('page'), { rows: [{ id: 1 }], info: { page: 1, hasNext: false, hasPrev: false } }),
      count: async () => (calls.push('count'), { total: 1, throttled: false }),
    }
    const presenter = { page: () => '[{"id":1}]' }
    const collection = new CollectionReader(store as unknown as RecordStore, presenter as unknown as Presenter, { countCap: 100, keptBytes: 1 << 20, keepAfter })
    const plan = { source: 'sort=id', filters: [], sort: [], fields: [], perPage: 20, paging: { kind: 'first' } } as unknown as Plan
    const read = async () => {
      calls.length = 0
      const answer = await collection.read('acme', plan)
      assert.equal(answer.body, '[{"id":1}]')
      return [...calls]
    }
    return read
  }

  it('reads a URL asked once without a watermark probe, keeps it the second time, answers the third from what it kept', async () => {
    const read = reader()
    assert.deepEqual(await read(), ['page'], 'first: read, nothing probed or kept')
    assert.deepEqual(await read(), ['watermark', 'page'], 'second: read at a watermark and kept')
    assert.deepEqual(await read(), ['watermark'], 'third: the kept answer, after one probe')
  })

  it('keeps every answer from its first request with RESULT_CACHE_AFTER=1', async () => {
    const read = reader(1)
    assert.deepEqual(await read(), ['watermark', 'page'])
    assert.deepEqual(await read(), ['watermark'])
  })
})
