// Plan shapes: plans that differ only in their values share a key (and so one compiled
// statement); anything that changes the SQL text changes the key.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseQuery } from '../../src/query/parse.ts'
import { planShape } from '../../src/query/shape.ts'
import { appOfferings } from '../../src/resources/app-offerings/fields.ts'
import { Placeholder } from '../../src/storage/prepared.ts'

const shapeOf = (query: string) => planShape(parseQuery(appOfferings, query, { cursorSecret: 'secret' }), ['acct'])

describe('planShape', () => {
  it('gives plans that differ only in values one key, and their own values', () => {
    const a = shapeOf('name=Alpha&id=>3<9&disabled=true')
    const b = shapeOf('name=Beta&id=>=4<10&disabled=false')
    assert.notEqual(a.key, b.key, 'a different comparison operator changes the SQL')
    const c = shapeOf('name=Beta&id=>5<10&disabled=false')
    assert.equal(a.key, c.key)
    assert.deepEqual(a.values, ['acct', 'Alpha', 3, 9, 1])
    assert.deepEqual(c.values, ['acct', 'Beta', 5, 10, 0])
  })

  it('changes the key with the operator, the list length, the sort, the fields and the paging', () => {
    const keys = [
      'name=a', 'name=!a', 'name=', 'id=1,2', 'id=1,2,3', 'id=!1,2', 'sort=-name', 'sort=name,created_at',
      'fields=name', 'fields=reference', 'page=2', 'per_page=5&page=3',
    ].map((q) => shapeOf(q).key)
    // per_page is a value (the limit), so `page=2` and `per_page=5&page=3` share a shape.
    assert.equal(keys[10], keys[11])
    assert.equal(new Set(keys).size, keys.length - 1)
  })

  it('replaces every value of the plan with a placeholder for it', () => {
    const { marked, values } = shapeOf('id=1,2,3&created_at=>2024-01-01&reference=!x')
    const found: number[] = []
    for (const filter of marked.filters) {
      const c = filter.condition
      const all = c.op === 'in' || c.op === 'nin' ? c.values : c.op === 'range' ? c.bounds.map((b) => b.value) : 'value' in c ? [c.value] : []
      for (const v of all) {
        assert.ok(v instanceof Placeholder)
        found.push(v.index)
      }
    }
    assert.deepEqual(found, [1, 2, 3, 4, 5])
    assert.equal(values.length, 6)
  })
})
