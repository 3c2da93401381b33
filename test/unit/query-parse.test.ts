// The query parser on its own (conventions.md §3–6): query string in, plan or the spec's 400 out.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { appOfferings } from '../../src/resources/app-offerings/fields.ts'
import { serviceInstances } from '../../src/resources/service-instances/fields.ts'
import { ApiError } from '../../src/errors.ts'
import { encodeCursor } from '../../src/query/cursor.ts'
import { decodeQuery, parseQuery, type Condition, type Plan } from '../../src/query/parse.ts'
import { defineResource, type Resource } from '../../src/catalogue/resource.ts'
import { boolean, duration, integer } from '../../src/catalogue/types.ts'

const SECRET = 'unit-test-secret-0123456789abcdefghij'
const parse = (query: string, resource: Resource = appOfferings): Plan => parseQuery(resource, query, { cursorSecret: SECRET })

/** The one filter of a query, as field name and condition. */
function filter(query: string, resource: Resource = appOfferings): [string, Condition] {
  const plan = parse(query, resource)
  assert.equal(plan.filters.length, 1)
  return [plan.filters[0].field.name, plan.filters[0].condition]
}

/** The message of the 400 a query answers. */
function refusal(query: string, resource: Resource = appOfferings): string {
  try {
    parse(query, resource)
  } catch (error) {
    assert.ok(error instanceof ApiError, String(error))
    assert.equal(error.statusCode, 400)
    return error.message
  }
  assert.fail(`expected a 400 for ?${query}`)
}

const at = (iso: string) => Date.parse(iso) / 1000

describe('query parser: filters', () => {
  const cases: Array<[string, string, Condition, Resource?]> = [
    // equal, both negations, empty, present
    ['name=Mail', 'name', { op: 'eq', value: 'Mail' }],
    ['name=!Mail', 'name', { op: 'ne', value: 'Mail' }],
    ['name!=Mail', 'name', { op: 'ne', value: 'Mail' }],
    ['name=', 'name', { op: 'empty' }],
    ['name=!', 'name', { op: 'present' }],
    ['name!=', 'name', { op: 'present' }],
    ['sourceID=', 'sourceID', { op: 'empty' }],
    ['id=', 'id', { op: 'empty' }],
    ['id=!', 'id', { op: 'present' }],
    // text: <, >, and , are ordinary characters; \! is a literal !
    ['name=%3Cb%3E', 'name', { op: 'eq', value: '<b>' }],
    ['name=<b>', 'name', { op: 'eq', value: '<b>' }],
    ['name=a,b', 'name', { op: 'eq', value: 'a,b' }],
    ['name=a%2Cb', 'name', { op: 'eq', value: 'a,b' }],
    ['name=%5C!wow', 'name', { op: 'eq', value: '!wow' }],
    ['name=\\!wow', 'name', { op: 'eq', value: '!wow' }],
    ['name=!\\!wow', 'name', { op: 'ne', value: '!wow' }],
    ['name!=\\!wow', 'name', { op: 'ne', value: '!wow' }],
    ['name=\\wow', 'name', { op: 'eq', value: '\\wow' }],
    ['name=Note+Dispatcher', 'name', { op: 'eq', value: 'Note Dispatcher' }],
    ['name=Note%20Dispatcher', 'name', { op: 'eq', value: 'Note Dispatcher' }],
    ['name=Caf%C3%A9', 'name', { op: 'eq', value: 'Café' }],
    ['reference=wdc_notes', 'reference', { op: 'eq', value: 'wdc_notes' }],
    ['source=API', 'source', { op: 'eq', value: 'API' }],
    // integers: lists, negated lists, comparisons, ranges
    ['id=5', 'id', { op: 'eq', value: 5 }],
    ['id=!5', 'id', { op: 'ne', value: 5 }],
    ['id=1,2,3', 'id', { op: 'in', values: [1, 2, 3] }],
    ['id=1%2C2%2C3', 'id', { op: 'in', values: [1, 2, 3] }],
    ['id=!1,2', 'id', { op: 'nin', values: [1, 2] }],
    ['id!=1,2', 'id', { op: 'nin', values: [1, 2] }],
    ['id=%211%2C2', 'id', { op: 'nin', values: [1, 2] }],
    ['id=>5', 'id', { op: 'range', bounds: [{ cmp: '>', value: 5 }] }],
    ['id=%3E5', 'id', { op: 'range', bounds: [{ cmp: '>', value: 5 }] }],
    ['id=>=5', 'id', { op: 'range', bounds: [{ cmp: '>=', value: 5 }] }],
    ['id=<5', 'id', { op: 'range', bounds: [{ cmp: '<', value: 5 }] }],
    ['id=%3C%3D5', 'id', { op: 'range', bounds: [{ cmp: '<=', value: 5 }] }],
    ['id=>5<10', 'id', { op: 'range', bounds: [{ cmp: '>', value: 5 }, { cmp: '<', value: 10 }] }],
    ['id=>=5<=10', 'id', { op: 'range', bounds: [{ cmp: '>=', value: 5 }, { cmp: '<=', value: 10 }] }],
    ['id=%3E%3D5%3C10', 'id', { op: 'range', bounds: [{ cmp: '>=', value: 5 }, { cmp: '<', value: 10 }] }],
    // enums: lists and negated lists
    ['status=in_production', 'status', { op: 'eq', value: 'in_production' }, serviceInstances],
    ['status=being_prepared,discontinued', 'status', { op: 'in', values: ['being_prepared', 'discontinued'] }, serviceInstances],
    ['status!=being_prepared%2Cdiscontinued', 'status', { op: 'nin', values: ['being_prepared', 'discontinued'] }, serviceInstances],
    // booleans by the truthy rule
    ...['true', '1', 't', 'y', 'yes', 'on', 'TRUE', 'Yes', 'ON'].map(
      (v): [string, string, Condition] => [`disabled=${v}`, 'disabled', { op: 'eq', value: 1 }],
    ),
    ...['false', '0', 'no', 'off', 'nope', 'truee'].map((v): [string, string, Condition] => [`disabled=${v}`, 'disabled', { op: 'eq', value: 0 }]),
    ['disabled=!true', 'disabled', { op: 'ne', value: 1 }],
    ['disabled!=true', 'disabled', { op: 'ne', value: 1 }],
    // datetimes: Z, offsets (a '+' that arrived as a space), bare dates, comparisons and ranges
    ['created_at=2024-01-03T00:00:00Z', 'created_at', { op: 'eq', value: at('2024-01-03T00:00:00Z') }],
    ['created_at=2024-01-03T01:00:00%2B01:00', 'created_at', { op: 'eq', value: at('2024-01-03T00:00:00Z') }],
    ['created_at=2024-01-03T01:00:00+01:00', 'created_at', { op: 'eq', value: at('2024-01-03T00:00:00Z') }],
    ['created_at=2024-01-02T22:00:00-02:00', 'created_at', { op: 'eq', value: at('2024-01-03T00:00:00Z') }],
    ['created_at=2024-01-03', 'created_at', { op: 'eq', value: at('2024-01-03T00:00:00Z') }],
    ['updated_at=%3E2024-01-03T00%3A00%3A00%2B00%3A00', 'updated_at', { op: 'range', bounds: [{ cmp: '>', value: at('2024-01-03T00:00:00Z') }] }],
    ['updated_at=>2024-01-03T00:00:00+00:00', 'updated_at', { op: 'range', bounds: [{ cmp: '>', value: at('2024-01-03T00:00:00Z') }] }],
    [
      'created_at=>=2024-01-01<2024-02-01T00:00:00Z',
      'created_at',
      { op: 'range', bounds: [{ cmp: '>=', value: at('2024-01-01T00:00:00Z') }, { cmp: '<', value: at('2024-02-01T00:00:00Z') }] },
    ],
    ['created_at=!2024-01-03', 'created_at', { op: 'ne', value: at('2024-01-03T00:00:00Z') }],
  ]
  for (const [query, field, condition, resource] of cases) {
    it(`?${query}`, () => assert.deepEqual(filter(query, resource), [field, condition]))
  }

  it('ANDs several filters, repeated ones too', () => {
    const plan = parse('name=!&created_at=>2024-01-01&created_at=<2024-02-01&disabled=false')
    assert.deepEqual(
      plan.filters.map((f) => f.field.name),
      ['name', 'created_at', 'created_at', 'disabled'],
    )
  })

  it('refuses a field the catalogue does not mark filterable, whatever the form', () => {
    assert.equal(refusal('service_instance_id=4'), 'Filtering not allowed on fields: service_instance_id')
    assert.equal(refusal('compliance!=x'), 'Filtering not allowed on fields: compliance')
  })
})

describe('query parser: refusals', () => {
  const cases: Array<[string, string, Resource?]> = [
    ['color=red', 'Filtering not allowed on fields: color'],
    ['color=red&shape=round&color=blue', 'Filtering not allowed on fields: color, shape'],
    ['description=x', 'Filtering not allowed on fields: description'],
    ['policy_jwt_alg=rs256', 'Filtering not allowed on fields: policy_jwt_alg'],
    ['id=abc', 'Invalid filter value for id: abc'],
    ['id=1,x', 'Invalid filter value for id: 1,x'],
    ['id=1,', 'Invalid filter value for id: 1,'],
    ['id=>', 'Invalid filter value for id: >'],
    ['id=>5>', 'Invalid filter value for id: >5>'],
    ['id=<5<6<7', 'Invalid filter value for id: <5<6<7'],
    ['id=!>5', 'Invalid filter value for id: !>5'],
    ['id!=>5', 'Invalid filter value for id: >5'],
    ['id=1.5', 'Invalid filter value for id: 1.5'],
    ['created_at=yesterday', 'Invalid filter value for created_at: yesterday'],
    ['created_at=2024-02-30', 'Invalid filter value for created_at: 2024-02-30'],
    ['created_at=2024-01-03T10:00:00', 'Invalid filter value for created_at: 2024-01-03T10:00:00'],
    ['created_at=2024-01-01,2024-01-02', 'Invalid filter value for created_at: 2024-01-01,2024-01-02'],
    ['created_at=>2024-13-01', 'Invalid filter value for created_at: >2024-13-01'],
    ['status=live', 'Invalid filter value for status: live', serviceInstances],
    ['status=in_production,live', 'Invalid filter value for status: in_production,live', serviceInstances],
    ['status=>in_production', 'Invalid filter value for status: >in_production', serviceInstances],
    ['sort=reference', 'Sorting not allowed on fields: reference'],
    ['sort=-reference,disabled,name', 'Sorting not allowed on fields: reference, disabled'],
    ['sort=nope', 'Sorting not allowed on fields: nope'],
    ['fields=name,nope', 'Unknown fields: nope'],
    ['fields=description_attachments,features_attachments', 'Unknown fields: description_attachments, features_attachments'],
    ['per_page=0', 'per_page must be a whole number of at least 1'],
    ['per_page=-5', 'per_page must be a whole number of at least 1'],
    ['per_page=ten', 'per_page must be a whole number of at least 1'],
    ['per_page=', 'per_page must be a whole number of at least 1'],
    ['page=0', 'page must be a whole number of at least 1'],
    ['page=1.5', 'page must be a whole number of at least 1'],
    ['page=99999999999', 'page must be at most 1000000000'],
    ['name=%E0%A4%A', 'Invalid query string: malformed percent-encoding'],
    ['search_after=garbage', 'Invalid cursor in search_after'],
    ['search_before=', 'Invalid cursor in search_before'],
    ['search_after=a.b&search_before=a.b', 'Use only one of search_after and search_before'],
  ]
  for (const [query, message, resource] of cases) {
    it(`?${query} -> 400 ${message}`, () => assert.equal(refusal(query, resource), message))
  }

  it('refuses more than 64 parameters', () => {
    assert.equal(refusal(Array.from({ length: 65 }, () => 'name=x').join('&')), 'Too many query parameters (maximum is 64)')
  })
})

describe('query parser: fields, sort, per_page', () => {
  const names = (plan: Plan) => plan.fields.map((f) => f.name)

  it('lists the collection fields by default, id and nodeID included', () => {
    assert.deepEqual(names(parse('')), appOfferings.collectionFields.map((f) => f.name))
    assert.ok(names(parse('')).includes('nodeID'))
  })

  it('selects named fields in catalogue order, id and nodeID always', () => {
    assert.deepEqual(names(parse('fields=reference,name')), ['id', 'nodeID', 'name', 'reference'])
    assert.deepEqual(names(parse('fields=name%2Cdescription')), ['id', 'nodeID', 'name', 'description'])
    assert.deepEqual(names(parse('fields=nodeID')), ['id', 'nodeID'])
    assert.deepEqual(names(parse('fields=status', serviceInstances)), ['id', 'nodeID', 'status'])
    assert.deepEqual(names(parse('fields=')), names(parse('')))
  })

  it('sorts by the default, then by named keys, ties always by id ascending', () => {
    const keys = (plan: Plan) => plan.sort.map((k) => (k.descending ? '-' : '') + k.field.name)
    assert.deepEqual(keys(parse('')), ['name', 'id'])
    assert.deepEqual(keys(parse('sort=-created_at')), ['-created_at', 'id'])
    assert.deepEqual(keys(parse('sort=sourceID,-updated_at')), ['sourceID', '-updated_at', 'id'])
    assert.deepEqual(keys(parse('sort=-id')), ['-id'])
    assert.deepEqual(keys(parse('sort=')), ['name', 'id'])
  })

  it('pages 20 by default, at most 100', () => {
    assert.equal(parse('').perPage, 20)
    assert.equal(parse('per_page=7').perPage, 7)
    assert.equal(parse('per_page=100').perPage, 100)
    assert.equal(parse('per_page=101').perPage, 100)
    assert.equal(parse('per_page=100000000000000000000').perPage, 100)
    assert.deepEqual(parse('page=3').paging, { kind: 'page', page: 3 })
    assert.deepEqual(parse('').paging, { kind: 'first' })
  })

  it('keeps every parameter but the paging ones, decoded, for the Link URLs', () => {
    const plan = parse('name=a%2Cb&per_page=5&page=2&fields=name,reference&sort=-name')
    assert.deepEqual(plan.kept, [
      ['name', 'a,b'],
      ['per_page', '5'],
      ['fields', 'name,reference'],
      ['sort', '-name'],
    ])
  })

  it('decodes a query string as a form would', () => {
    assert.deepEqual(decodeQuery('?a=1+2&b=%2B&c&=skipped&&d=x=y'), [
      ['a', '1 2'],
      ['b', '+'],
      ['c', ''],
      ['d', 'x=y'],
    ])
  })
})

describe('query parser: cursors', () => {
  const cursor = (sort: string, values: unknown[], page = 2) => encodeURIComponent(encodeCursor(SECRET, { sort, values, page }))

  it('reads a cursor made for the same sort', () => {
    assert.deepEqual(parse(`search_after=${cursor('name,id', ['Mail', 7], 3)}`).paging, {
      kind: 'cursor',
      direction: 'after',
      boundary: ['Mail', 7],
      page: 3,
    })
    assert.deepEqual(parse(`sort=-created_at&search_before=${cursor('-created_at,id', [1700000000, 7])}`).paging, {
      kind: 'cursor',
      direction: 'before',
      boundary: [1700000000, 7],
      page: 2,
    })
  })

  it('refuses a cursor of another sort, of the wrong shape, tampered or from another secret', () => {
    assert.equal(refusal(`sort=-name&search_after=${cursor('name,id', ['Mail', 7])}`), 'The cursor in search_after belongs to another sort order')
    assert.equal(refusal(`search_after=${cursor('name,id', [7, 'Mail'])}`), 'The cursor in search_after belongs to another sort order')
    assert.equal(refusal(`search_after=${cursor('name,id', ['Mail'])}`), 'The cursor in search_after belongs to another sort order')
    const good = encodeCursor(SECRET, { sort: 'name,id', values: ['Mail', 7], page: 2 })
    const [data, mac] = good.split('.')
    const forged = Buffer.from(JSON.stringify(['name,id', ['Zzz', 7], 2])).toString('base64url')
    assert.equal(refusal(`search_after=${forged}.${mac}`), 'Invalid cursor in search_after')
    assert.equal(refusal(`search_after=${data}.${mac.slice(0, -2)}AA`), 'Invalid cursor in search_after')
    assert.equal(refusal(`search_after=${data}`), 'Invalid cursor in search_after')
    const foreign = encodeCursor('another-secret-0123456789abcdefghijkl', { sort: 'name,id', values: ['Mail', 7], page: 2 })
    assert.equal(refusal(`search_after=${foreign}`), 'Invalid cursor in search_after')
    assert.equal(refusal(`search_after=${'A'.repeat(5000)}.x`), 'Invalid cursor in search_after')
  })

  it('refuses a cursor together with page', () => {
    assert.equal(refusal(`page=2&search_after=${cursor('name,id', ['Mail', 7])}`), 'A cursor (search_after, search_before) cannot be combined with page')
  })
})

describe('query parser: offset depth', () => {
  const deep = (query: string) => () => parseQuery(appOfferings, query, { cursorSecret: SECRET, maxOffset: 10_000 })

  it('lets offset paging skip up to the bound, and points deeper pages to cursors', () => {
    assert.deepEqual(deep('per_page=100&page=101')().paging, { kind: 'page', page: 101 })
    assert.deepEqual(deep('page=501')().paging, { kind: 'page', page: 501 })
    assert.throws(deep('per_page=100&page=102'), (e: ApiError) => e.statusCode === 400 && /search_after/.test(e.message))
    assert.throws(deep('page=502'), (e: ApiError) => e.statusCode === 400)
  })

  it('leaves cursors unbounded: a keyset page costs the same at any depth', () => {
    const cursor = encodeCursor(SECRET, { sort: 'name,id', values: ['x', 1], page: 90_000 })
    assert.equal(deep(`per_page=100&search_after=${cursor}`)().paging.kind, 'cursor')
  })
})

describe('query parser: a cursor carries its walk\'s count', () => {
  it('reads the count back', () => {
    const counted = encodeCursor(SECRET, { sort: 'name,id', values: ['x', 1], page: 3, count: { total: 41, throttled: false, scope: 'abc' } })
    assert.deepEqual(parse(`search_after=${counted}`).paging, { kind: 'cursor', direction: 'after', boundary: ['x', 1], page: 3, count: { total: 41, throttled: false, scope: 'abc' } })
  })

  it('checks a boundary by its sort field\'s type: a boolean sorts by 0 and 1, a duration by minutes', () => {
    const flagged = defineResource({
      name: 'flagged',
      table: 'flagged',
      nodeType: 'Flagged',
      defaultSort: 'id',
      fields: { id: { type: integer(), readOnly: true, sortable: true }, on: { type: boolean(), sortable: true }, minutes: { type: duration({ min: 1, max: 100 }), sortable: true } },
    })
    const cursor = (sort: string, values: unknown[]) => encodeCursor(SECRET, { sort, values, page: 2 })
    const read = (query: string) => parseQuery(flagged, query, { cursorSecret: SECRET }).paging
    assert.deepEqual(read(`sort=-on&search_after=${cursor('-on,id', [1, 4])}`), { kind: 'cursor', direction: 'after', boundary: [1, 4], page: 2 })
    assert.deepEqual(read(`sort=minutes&search_before=${cursor('minutes,id', [90, 4])}`), { kind: 'cursor', direction: 'before', boundary: [90, 4], page: 2 })
    assert.throws(() => read(`sort=-on&search_after=${cursor('-on,id', [true, 4])}`), (e: ApiError) => e.statusCode === 400)
    assert.throws(() => read(`sort=minutes&search_after=${cursor('minutes,id', ['90', 4])}`), (e: ApiError) => e.statusCode === 400)
    assert.throws(() => parse(`search_after=${cursor('name,id', [7, 1])}`), (e: ApiError) => e.statusCode === 400)
  })
})
