// Kysely takes tens of microseconds to build and compile a query: more than SQLite takes to read a
// record by its key. A statement of fixed shape is therefore built once, with placeholders for its
// values, and each call only supplies new values. Kysely still compiles it and drivers run it.
import type { Compilable, CompiledQuery, Kysely } from 'kysely'

class Placeholder {
  constructor(readonly index: number) {}
}

/**
 * `build` receives one placeholder per argument and must bind each as a plain value
 * (`eb(col, '=', id)`); a placeholder cannot stand for a list.
 */
export function prepared<Args extends unknown[], Row>(
  db: Kysely<any>,
  arity: Args['length'],
  build: (...args: any[]) => Compilable<Row>,
): (...args: Args) => Promise<Row[]> {
  const compiled = build(...Array.from({ length: arity }, (_, i) => new Placeholder(i))).compile()
  const slots = compiled.parameters.map((p) => (p instanceof Placeholder ? p.index : -1))
  if (new Set(slots.filter((s) => s >= 0)).size !== arity) throw new Error('prepared: every argument must be bound exactly once')
  return async (...args) => {
    const parameters = slots.map((slot, i) => (slot >= 0 ? args[slot] : compiled.parameters[i]))
    const result = await db.executeQuery<Row>({ ...compiled, parameters } as CompiledQuery<Row>)
    return result.rows
  }
}
