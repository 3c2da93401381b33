// Kept collection answers (records/reuse.ts): bounded in bytes, the least recently used going
// first, an answer larger than a sixteenth of the budget never kept, and nothing used under
// another watermark than the one it was kept at.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ByteBoundedCache } from '../../src/records/reuse.ts'

describe('ByteBoundedCache', () => {
  it('holds at most its capacity in bytes and forgets the least recently used first', () => {
    const cache = new ByteBoundedCache<string>(16_000)
    cache.set('a', 'm1', 'A', 600)
    cache.set('b', 'm1', 'B', 600)
    assert.equal(cache.get('a', 'm1'), 'A', 'a is now the most recently used')
    for (let i = 0; i < 30; i++) cache.set(`k${i}`, 'm1', 'x', 600)
    assert.ok(cache.bytes <= 16_000, `holds ${cache.bytes} bytes`)
    assert.equal(cache.get('b', 'm1'), undefined, 'b was the least recently used')
  })

  it('never keeps an entry larger than a sixteenth of its capacity', () => {
    const cache = new ByteBoundedCache<string>(16_000)
    cache.set('big', 'm1', 'X', 1_001)
    assert.equal(cache.get('big', 'm1'), undefined)
    assert.equal(cache.bytes, 0)
  })

  it('answers nothing under another watermark, and forgets the stale entry', () => {
    const cache = new ByteBoundedCache<string>(16_000)
    cache.set('a', 'm1', 'A', 100)
    assert.equal(cache.get('a', 'm2'), undefined)
    assert.equal(cache.get('a', 'm1'), undefined, 'a stale entry is dropped when found')
    assert.equal(cache.size, 0)
    assert.equal(cache.bytes, 0)
  })

  it('keeps nothing at capacity 0', () => {
    const cache = new ByteBoundedCache<number>(0)
    cache.set('a', 'm1', 1, 1)
    assert.equal(cache.get('a', 'm1'), undefined)
  })
})
