// Kysely takes tens of microseconds to build and compile a query: more than SQLite takes to read a
// record by its key. A statement of fixed shape is therefore built once, with placeholders for its
// values, and each call only supplies new values. Kysely still compiles it and drivers run it.
import type { Compilable, CompiledQuery } from 'kysely'
import { Placeholder } from '../query/shape.ts'
import type { Database } from './database.ts'

export { Placeholder }

/** A compiled statement and, for each of its parameters, the value it takes (-1: a constant). */
export interface Shaped<Row = unknown> {
  compiled: CompiledQuery<Row>
  slots: number[]
}

export function shape<Row>(query: Compilable<Row>, arity: number): Shaped<Row> {
  const compiled = query.compile()
  const slots = compiled.parameters.map((p) => (p instanceof Placeholder ? p.index : -1))
  if (new Set(slots.filter((s) => s >= 0)).size !== arity) throw new Error('every placeholder must be bound exactly once')
  return { compiled, slots }
}

/** Runs a reading statement with these values. */
export async function run<Row>(database: Database, shaped: Shaped<Row>, values: readonly unknown[]): Promise<Row[]> {
  const { compiled, slots } = shaped
  const parameters = slots.map((slot, i) => (slot >= 0 ? values[slot] : compiled.parameters[i]))
  const rows = database.readNow?.(compiled.sql, parameters)
  return rows ? (rows as Row[]) : (await database.db.executeQuery<Row>({ ...compiled, parameters })).rows
}

export const placeholders = (n: number) => Array.from({ length: n }, (_, i) => new Placeholder(i))

/** A fixed reading statement with `arity` arguments, built once: `build` gets one placeholder per argument. */
export function prepared<Args extends unknown[], Row>(
  database: Database,
  arity: Args['length'],
  build: (...args: any[]) => Compilable<Row>,
): (...args: Args) => Promise<Row[]> {
  const shaped = shape(build(...placeholders(arity)), arity)
  return (...args) => run(database, shaped, args)
}
