// Reuse keeps an answer only for a URL asked again while remembered (records/reuse.ts): the memory
// of recent keys must say "seen" for a repeat, "new" for a first request, and forget old keys
// so it stays bounded.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RecentKeys } from '../../src/records/reuse.ts'

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
