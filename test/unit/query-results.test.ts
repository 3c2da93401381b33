// Kept collection results: bounded (the least recently used go first), nothing kept at capacity
// 0, and keys that tell apart every input a result depends on.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseQuery } from '../../src/query/parse.ts'
import { ResultCache, countKey, pageKey } from '../../src/query/results.ts'
import { appOfferings } from '../../src/resources/app-offerings/fields.ts'

const plan = (query: string) => parseQuery(appOfferings, query, { cursorSecret: 'secret' })

describe('ResultCache', () => {
  it('holds at most its capacity and forgets the least recently used first', () => {
    const cache = new ResultCache<number>(2)
    cache.set('a', 1)
    cache.set('b', 2)
    assert.equal(cache.get('a'), 1, 'a is now the most recently used')
    cache.set('c', 3)
    assert.equal(cache.get('b'), undefined, 'b was the least recently used')
    assert.equal(cache.get('a'), 1)
    assert.equal(cache.get('c'), 3)
  })

  it('keeps nothing at capacity 0', () => {
    const cache = new ResultCache<number>(0)
    cache.set('a', 1)
    assert.equal(cache.get('a'), undefined)
  })
})

describe('result keys', () => {
  it('give a page its own key per account, change counter, subset and query string', () => {
    const keys = [
      pageKey('acme', 1, '', 'name=a'),
      pageKey('wdc', 1, '', 'name=a'),
      pageKey('acme', 2, '', 'name=a'),
      pageKey('acme', 1, 'latest_internal', 'name=a'),
      pageKey('acme', 1, '', 'name=b'),
      pageKey('acme', 1, '', 'name=a&per_page=5'),
    ]
    assert.equal(new Set(keys).size, keys.length)
  })

  it('count once per filters, whatever the page, cursor, sort or fields', () => {
    const key = (query: string) => countKey('acme', 1, '/100000', plan(query).filters)
    assert.equal(key('disabled=true'), key('disabled=true&page=3&per_page=5&sort=-name&fields=name'))
    assert.notEqual(key('disabled=true'), key('disabled=false'))
    assert.notEqual(key('disabled=true'), countKey('acme', 2, '/100000', plan('disabled=true').filters))
    assert.notEqual(key('disabled=true'), countKey('wdc', 1, '/100000', plan('disabled=true').filters))
  })
})
