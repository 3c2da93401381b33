// A plan's shape is its structure without its values: which filters with which operators (and
// how many list items), the sort, the kind of paging. Plans of one shape compile to one SQL text,
// so the text is made once per shape and later plans only supply their values.
import type { Condition, Filter, Paging, Plan } from './parse.ts'

/** Stands for the value at `index` while a statement is built; it must be bound as a plain value. */
export class Placeholder {
  constructor(readonly index: number) {}
}

export interface PlanShape {
  key: string
  /** The plan with every value replaced by a placeholder for `values[i]`. */
  marked: Plan
  values: unknown[]
}

/** `first` is bound before the plan's own values (the account, say). */
export function planShape(plan: Plan, first: unknown[] = []): PlanShape {
  const values = [...first]
  const mark = (value: unknown) => new Placeholder(values.push(value) - 1)
  const filters = plan.filters.map((f): Filter => ({ field: f.field, condition: markCondition(f.condition, mark) }))
  let paging: Paging = plan.paging
  if (paging.kind === 'cursor') paging = { ...paging, boundary: paging.boundary.map(mark) }
  const key = JSON.stringify([
    filters.map((f) => [f.field.name, f.condition.op, conditionShape(f.condition)]),
    plan.sort.map((k) => [k.field.name, k.descending]),
    plan.fields.map((f) => f.name),
    paging.kind === 'cursor' ? paging.direction : paging.kind,
  ])
  return { key, marked: { ...plan, filters, paging }, values }
}

function markCondition(c: Condition, mark: (value: unknown) => Placeholder): Condition {
  switch (c.op) {
    case 'eq':
    case 'ne':
      return { op: c.op, value: mark(c.value) }
    case 'in':
    case 'nin':
      return { op: c.op, values: c.values.map(mark) }
    case 'range':
      return { op: 'range', bounds: c.bounds.map((b) => ({ cmp: b.cmp, value: mark(b.value) })) }
    default:
      return c
  }
}

function conditionShape(c: Condition): unknown {
  if (c.op === 'in' || c.op === 'nin') return c.values.length
  if (c.op === 'range') return c.bounds.map((b) => b.cmp)
  return null
}
