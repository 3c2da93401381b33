// The catalogue is the one source of a resource's table: the migrated schema, on each store, has
// exactly the columns the catalogue declares (its fields' columns, its internal columns and the
// columns every record has), with the catalogue's types and nullability, and an index that
// bounds the rows read for every filterable or sortable field.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { sql, type Kysely } from 'kysely'
import type { Resource } from '../../src/catalogue/resource.ts'
import { auditEntries } from '../../src/resources/audit-entries/fields.ts'
import { INTERNAL_RESOURCES, RESOURCES } from '../../src/resources/index.ts'
import { engines } from '../support/stores.ts'
import { useHarness } from '../support/harness.ts'

interface Column {
  type: 'text' | 'integer'
  notNull: boolean
  primaryKey: boolean
}

const TYPES: Record<string, 'text' | 'integer'> = { text: 'text', integer: 'integer', bigint: 'integer' }

for (const engine of engines) {
  describe(`tables match their catalogues (${engine})`, () => {
    const h = useHarness(engine)
    const db = () => h().database.db as unknown as Kysely<any>

    async function columns(table: string): Promise<Map<string, Column>> {
      if (engine === 'sqlite') {
        const { rows } = await sql<{ name: string; type: string; notnull: number; pk: number }>`select * from pragma_table_info(${table})`.execute(db())
        return new Map(rows.map((r) => [r.name, { type: TYPES[r.type.toLowerCase()], notNull: r.notnull === 1 || r.pk === 1, primaryKey: r.pk === 1 }]))
      }
      const { rows } = await sql<{ column_name: string; data_type: string; is_nullable: string; pk: boolean }>`
        select c.column_name, c.data_type, c.is_nullable,
          exists (select 1 from information_schema.key_column_usage k join information_schema.table_constraints t using (constraint_schema, constraint_name)
                  where t.constraint_type = 'PRIMARY KEY' and k.table_schema = c.table_schema and k.table_name = c.table_name and k.column_name = c.column_name) as pk
        from information_schema.columns c where c.table_schema = current_schema() and c.table_name = ${table}`.execute(db())
      return new Map(rows.map((r) => [r.column_name, { type: TYPES[r.data_type], notNull: r.is_nullable === 'NO', primaryKey: r.pk }]))
    }

    /** Each index of the table as its list of columns. */
    async function indexes(table: string): Promise<string[][]> {
      if (engine === 'sqlite') {
        const { rows } = await sql<{ name: string }>`select name from pragma_index_list(${table})`.execute(db())
        const out: string[][] = []
        for (const { name } of rows) {
          const info = await sql<{ name: string }>`select name from pragma_index_info(${name}) order by seqno`.execute(db())
          out.push(info.rows.map((r) => r.name))
        }
        return out
      }
      const { rows } = await sql<{ indexdef: string }>`select indexdef from pg_indexes where schemaname = current_schema() and tablename = ${table}`.execute(db())
      return rows.map((r) => /\((.*)\)/.exec(r.indexdef)![1].split(',').map((c) => c.trim().replace(/"/g, '')))
    }

    const resources: Resource[] = [...RESOURCES.map((r) => r.resource), ...INTERNAL_RESOURCES, auditEntries]
    for (const resource of resources) {
      it(`${resource.table}: the catalogue's columns, types and nullability, nothing else`, async () => {
        const actual = await columns(resource.table)
        const declared = new Map(resource.tableColumns.map((c) => [c.name, c]))
        assert.deepEqual([...actual.keys()].sort(), [...declared.keys()].sort(), 'the same columns')
        assert.equal(actual.get('id')?.primaryKey, true)
        for (const [name, spec] of declared) {
          const column = actual.get(name)!
          assert.equal(column.type, spec.type.sql, `${resource.table}.${name}: type`)
          assert.equal(column.notNull, spec.type.notNull, `${resource.table}.${name}: ${spec.type.notNull ? 'NOT NULL' : 'nullable'}`)
        }
      })

      it(`${resource.table}: an index for every filterable and sortable field, behind ${resource.indexPrefix.join(', ')}`, async () => {
        const all = await indexes(resource.table)
        const prefix = resource.indexPrefix
        const leads = (index: string[], column: string) => prefix.every((c, i) => index[i] === c) && index[prefix.length] === column
        for (const field of resource.fieldList.filter((f) => f.filterable || f.sortable)) {
          if (field.column === 'id' && prefix.length === 1) continue // the primary key, within the account's rows
          assert.ok(all.some((index) => leads(index, field.column!)), `${resource.table}.${field.column}: no index (${prefix.join(', ')}, ${field.column}, ...) among ${JSON.stringify(all)}`)
        }
        for (const column of resource.tableColumns.filter((c) => c.indexed)) {
          assert.ok(all.some((index) => leads(index, column.name)), `${resource.table}.${column.name}: no index`)
        }
      })
    }
  })
}
