// The field types of src/catalogue/types.ts, table-driven: coercion, limits, datetimes, helpers.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  boolean,
  codePoints,
  datetime,
  duration,
  enumeration,
  formatDatetime,
  integer,
  isHttpUrl,
  isUriTemplate,
  objectList,
  parseDatetime,
  reference,
  string,
  truthy,
  type FieldType,
} from '../../src/catalogue/types.ts'

const ASTRAL = '\u{1F600}'

/** Coerce, then check a non-null value: the value the field gets, or its error message. */
function read(type: FieldType, input: unknown): { value: unknown } | { error: string } {
  const coerced = type.coerce(input)
  if ('error' in coerced) return coerced
  const error = coerced.value !== null ? type.check?.(coerced.value) : undefined
  return error ? { error } : coerced
}

function table(type: FieldType, rows: Array<[input: unknown, expected: { value: unknown } | { error: string }]>) {
  for (const [input, expected] of rows) {
    it(`${JSON.stringify(input)?.slice(0, 40) ?? String(input)} -> ${JSON.stringify(expected).slice(0, 60)}`, () => {
      assert.deepEqual(read(type, input), expected)
    })
  }
}

const v = (value: unknown) => ({ value })
const e = (error: string) => ({ error })
const INVALID = e('is invalid')

describe('codePoints', () => {
  for (const [text, n] of [['', 0], ['abc', 3], ['é', 1], [ASTRAL, 1], [`a${ASTRAL}b`, 3], ['\ud800', 1], ['\ud800x', 2], ['\udc00\ud800', 2]] as const) {
    it(`${JSON.stringify(text)} has ${n}`, () => assert.equal(codePoints(text), n))
  }
})

describe('truthy', () => {
  for (const word of ['true', 'TRUE', 'True', '1', 't', 'T', 'y', 'yes', 'YES', 'on', 'On']) it(`${word} is true`, () => assert.equal(truthy(word), true))
  for (const word of ['false', '0', 'f', 'n', 'no', 'off', '', ' true', 'yes ', '2', 'ja']) it(`${JSON.stringify(word)} is false`, () => assert.equal(truthy(word), false))
})

describe('string({ max: 5, trim: true })', () => {
  table(string({ max: 5, trim: true }), [
    ['abcde', v('abcde')],
    ['abcdef', e('is too long (maximum is 5 characters)')],
    [ASTRAL.repeat(5), v(ASTRAL.repeat(5))],
    [ASTRAL.repeat(6), e('is too long (maximum is 5 characters)')],
    ['  abcde \n', v('abcde')],
    ['', v(null)],
    ['   ', v(null)],
    [null, v(null)],
    [12, v('12')],
    [true, v('true')],
    [1.5, v('1.5')],
    [Number.NaN, INVALID],
    [{}, INVALID],
    [[], INVALID],
    [['a'], INVALID],
    ['a\u0000b', INVALID],
    ['\ud800', INVALID],
    ['ok\udfff', INVALID],
  ])
})

describe('string without trim keeps white space', () => {
  table(string({ max: 5 }), [
    [' a ', v(' a ')],
    ['      ', e('is too long (maximum is 5 characters)')],
  ])
})

describe('string({ maxBytes: 6 }) counts UTF-8 bytes', () => {
  table(string({ maxBytes: 6 }), [
    ['abcdef', v('abcdef')],
    ['abcdefg', e('is too long (maximum is 6 bytes)')],
    ['ééé', v('ééé')],
    ['éééa', e('is too long (maximum is 6 bytes)')],
    [ASTRAL, v(ASTRAL)],
    [ASTRAL + ASTRAL, e('is too long (maximum is 6 bytes)')],
  ])
  it('is a text, stored as "" when blank and rendered as null', () => {
    const type = string({ maxBytes: 6 })
    assert.equal(type.kind, 'text')
    assert.equal(type.store(null), '')
    assert.equal(type.render(''), null)
    assert.equal(type.render('x'), 'x')
  })
})

describe('string({ format }) judges the value after the limit', () => {
  table(string({ max: 30, format: isUriTemplate }), [
    ['https://x.example/{account}', v('https://x.example/{account}')],
    ['ftp://x.example', INVALID],
    [`https://x.example/${'a'.repeat(20)}`, e('is too long (maximum is 30 characters)')],
  ])
})

describe('integer({ min: 1, max: 10 })', () => {
  table(integer({ min: 1, max: 10 }), [
    [1, v(1)],
    [10, v(10)],
    [0, e('must be greater than or equal to 1')],
    [11, e('must be less than or equal to 10')],
    ['7', v(7)],
    [' 7 ', v(7)],
    ['+7', v(7)],
    ['-7', e('must be greater than or equal to 1')],
    ['', v(null)],
    [null, v(null)],
    ['7.0', INVALID],
    [7.5, INVALID],
    ['1e3', INVALID],
    ['0x10', INVALID],
    ['seven', INVALID],
    [true, INVALID],
    [Number.MAX_SAFE_INTEGER + 2, INVALID],
    ['9'.repeat(16), INVALID],
    [{}, INVALID],
    [[7], INVALID],
  ])
})

describe('duration({ min: 1, max: 525600 })', () => {
  table(duration({ min: 1, max: 525_600 }), [
    [90, v(90)],
    ['90', v(90)],
    ['1:30', v(90)],
    ['01:30', v(90)],
    ['100:00', v(6000)],
    [' 2:05 ', v(125)],
    ['8760:00', v(525_600)],
    ['8760:01', e('must be less than or equal to 525600')],
    ['0:00', e('must be greater than or equal to 1')],
    ['0:01', v(1)],
    ['1:60', INVALID],
    ['1:5', INVALID],
    [':30', INVALID],
    ['1:30:00', INVALID],
    ['-1:30', INVALID],
    ['', v(null)],
    [null, v(null)],
    [{}, INVALID],
  ])
})

describe('boolean()', () => {
  table(boolean(), [
    [true, v(true)],
    [false, v(false)],
    ['true', v(true)],
    ['Yes', v(true)],
    ['1', v(true)],
    [1, v(true)],
    [0, v(false)],
    [2, v(false)],
    ['false', v(false)],
    ['whatever', v(false)],
    ['', v(false)],
    [null, v(false)],
    [{}, INVALID],
    [[], INVALID],
  ])
  it('stores 0/1 and renders both engines’ values as booleans', () => {
    const type = boolean()
    assert.deepEqual([type.store(true), type.store(false)], [1, 0])
    assert.deepEqual([type.render(1), type.render(0), type.render(true), type.render(false)], [true, false, true, false])
  })
})

describe('enumeration()', () => {
  table(enumeration(['rs256', 'es256']), [
    ['rs256', v('rs256')],
    ['es256', v('es256')],
    ['RS256', e('is not included in the list')],
    ['rs 256', e('is not included in the list')],
    [256, e('is not included in the list')],
    ['', v(null)],
    [null, v(null)],
    [{}, INVALID],
    [['rs256'], INVALID],
  ])
})

describe('reference()', () => {
  table(reference(() => null), [
    [12, v(12)],
    ['12', v(12)],
    ['', v(null)],
    [null, v(null)],
    [0, e('must exist')],
    [-3, e('must exist')],
    ['abc', INVALID],
    [{ id: 12 }, INVALID],
    [[12], INVALID],
  ])
})

describe('datetime()', () => {
  table(datetime(), [
    ['2024-01-03T10:20:30Z', v(1_704_277_230)],
    ['2024-01-03T11:20:30+01:00', v(1_704_277_230)],
    ['', v(null)],
    ['yesterday', INVALID],
    [1_704_277_230, INVALID],
  ])
})

describe('parseDatetime', () => {
  const at = (iso: string) => Date.parse(iso) / 1000
  const rows: Array<[string, number | undefined]> = [
    ['2024-01-03T10:20:30Z', at('2024-01-03T10:20:30Z')],
    ['2024-01-03T10:20:30z', at('2024-01-03T10:20:30Z')],
    ['2024-01-03T10:20:30+00:00', at('2024-01-03T10:20:30Z')],
    ['2024-01-03T10:20:30+02:00', at('2024-01-03T08:20:30Z')],
    ['2024-01-03T10:20:30-0530', at('2024-01-03T15:50:30Z')],
    ['2024-01-03T10:20:30 01:00', at('2024-01-03T09:20:30Z')],
    ['2024-01-03 10:20:30Z', at('2024-01-03T10:20:30Z')],
    ['2024-01-03T10:20Z', at('2024-01-03T10:20:00Z')],
    ['2024-01-03T10:20:30.999Z', at('2024-01-03T10:20:30Z')],
    ['2024-01-03', at('2024-01-03T00:00:00Z')],
    ['2024-02-29', at('2024-02-29T00:00:00Z')],
    [' 2024-01-03 ', at('2024-01-03T00:00:00Z')],
    ['2023-02-29', undefined],
    ['2024-13-01', undefined],
    ['2024-01-32', undefined],
    ['2024-01-03T24:00:00Z', undefined],
    ['2024-01-03T10:60:00Z', undefined],
    ['2024-01-03T10:20:30', undefined],
    ['2024-1-3', undefined],
    ['03-01-2024', undefined],
    ['', undefined],
    ['now', undefined],
  ]
  for (const [raw, expected] of rows) it(`${JSON.stringify(raw)} -> ${expected}`, () => assert.equal(parseDatetime(raw), expected))
})

describe('formatDatetime', () => {
  for (const [seconds, text] of [
    [0, '1970-01-01T00:00:00+00:00'],
    [1_704_277_230, '2024-01-03T10:20:30+00:00'],
    [4_102_444_799, '2099-12-31T23:59:59+00:00'],
  ] as const) {
    it(`${seconds} -> ${text}`, () => {
      assert.equal(formatDatetime(seconds), text)
      assert.equal(parseDatetime(text), seconds)
    })
  }
  it('agrees with Date#toISOString on any whole second, before 1970 too', () => {
    fc.assert(
      fc.property(fc.integer({ min: -2_000_000_000, max: 8_000_000_000 }), (seconds) => {
        assert.equal(formatDatetime(seconds), new Date(seconds * 1000).toISOString().slice(0, 19) + '+00:00')
      }),
      { numRuns: 2000 },
    )
  })
})

describe('isHttpUrl and isUriTemplate', () => {
  const rows: Array<[string, boolean, boolean]> = [
    // text, isHttpUrl, isUriTemplate
    ['https://example.com', true, true],
    ['http://example.com:8080/a?b=c#d', true, true],
    ['https://example.com/{account}', true, true],
    ['https://{account}.example.com/', true, true],
    ['ftp://example.com', false, false],
    ['mailto:a@example.com', false, false],
    ['//example.com', false, false],
    ['example.com', false, false],
    ['https://', false, false],
    ['https://exa mple.com', false, false],
    [' https://example.com', false, false],
    ['https://example.com/\n', false, false],
  ]
  for (const [text, http, template] of rows) {
    it(`${JSON.stringify(text)}: url ${http}, template ${template}`, () => {
      assert.equal(isHttpUrl(text), http)
      assert.equal(isUriTemplate(text), template)
    })
  }
})

describe('objectList()', () => {
  table(
    objectList((items) => (items.length > 1 ? 'is invalid' : undefined)),
    [
      [[], v([])],
      [[{ key: 'a' }], v([{ key: 'a' }])],
      [[{ key: 'a' }, { key: 'b' }], INVALID],
      ['', v([])],
      [null, v([])],
      ['a', INVALID],
      [{ key: 'a' }, INVALID],
      [['a'], INVALID],
      [[null], INVALID],
      [[[]], INVALID],
    ],
  )
})
