// Plan -> Kysely. Only catalogue columns reach SQL, every value is bound, and the same code serves
// SQLite and PostgreSQL (text columns share code point order; sort columns are NOT NULL).
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely'
import type { Field } from '../catalogue/resource.ts'
import type { Condition, Filter, SortKey } from './parse.ts'

type EB = ExpressionBuilder<any, any>

/** A blank optional integer or reference is NULL, and `<>` must still match it. */
const nullable = (field: Field) => field.type.blank === null && !field.required && !field.readOnly

function condition(eb: EB, field: Field, c: Condition): Expression<SqlBool> {
  const col = eb.ref(field.column!)
  switch (c.op) {
    case 'eq':
      return eb(col, '=', c.value)
    case 'ne':
      return nullable(field) ? eb.or([eb(col, '<>', c.value), eb(col, 'is', null)]) : eb(col, '<>', c.value)
    case 'empty':
      return field.type.blank === '' ? eb(col, '=', '') : eb(col, 'is', null)
    case 'present':
      return field.type.blank === '' ? eb(col, '<>', '') : eb(col, 'is not', null)
    case 'in':
      return eb(col, 'in', c.values)
    case 'nin':
      return nullable(field) ? eb.or([eb(col, 'not in', c.values), eb(col, 'is', null)]) : eb(col, 'not in', c.values)
    case 'range':
      return eb.and(c.bounds.map((b) => eb(col, b.cmp, b.value)))
  }
}

export function filtersExpression(eb: EB, filters: Filter[]): Expression<SqlBool> {
  return eb.and(filters.map((f) => condition(eb, f.field, f.condition)))
}

/** The sort as it is applied: reversed when walking backwards from a cursor. */
export function orderKeys(sort: SortKey[], reverse: boolean): Array<{ column: string; direction: 'asc' | 'desc' }> {
  return sort.map((key) => ({ column: key.field.column!, direction: key.descending !== reverse ? 'desc' : 'asc' }))
}

/**
 * Rows strictly after the boundary in the given order. When every key runs the same way this is
 * one row-value comparison, `(k1, ..., kn) > (v1, ..., vn)`, which both engines turn into one
 * index range (SQLite evaluates it in about 60% of the time of the expanded form on a 21-row
 * page). Mixed directions need the expanded form: (k1 > v1) or (k1 = v1 and k2 > v2) or ...,
 * plus k1 >= v1 so the index range starts there. Sort columns are NOT NULL, so both agree.
 */
export function keysetExpression(eb: EB, keys: Array<{ column: string; direction: 'asc' | 'desc' }>, boundary: unknown[]): Expression<SqlBool> {
  const after = (direction: 'asc' | 'desc') => (direction === 'asc' ? '>' : '<')
  if (keys.every((key) => key.direction === keys[0].direction)) {
    if (keys.length === 1) return eb(eb.ref(keys[0].column), after(keys[0].direction), boundary[0])
    const columns = sql.join(keys.map((key) => sql.ref(key.column)))
    const values = sql.join(boundary.map((value) => sql.val(value)))
    return sql<SqlBool>`(${columns}) ${sql.raw(after(keys[0].direction))} (${values})`
  }
  const branches: Expression<SqlBool>[] = keys.map((key, i) => {
    const equalPrefix = keys.slice(0, i).map((k, j) => eb(eb.ref(k.column), '=', boundary[j]))
    return eb.and([...equalPrefix, eb(eb.ref(key.column), after(key.direction), boundary[i])])
  })
  const lead = eb(eb.ref(keys[0].column), keys[0].direction === 'asc' ? '>=' : '<=', boundary[0])
  return eb.and([lead, eb.or(branches)])
}
