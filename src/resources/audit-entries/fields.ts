// An audit entry's catalogue (lifecycle.md, "Audit"): read-only, listed per record at
// /v1/<resource>/:id/audit, newest first, with every collection feature. Entries are written by
// the records core (records/audit.ts) in the transaction of the write they stand for.
import { Type } from 'typebox'
import { defineResource } from '../../catalogue/resource.ts'
import { computed, datetime, enumeration, integer, string } from '../../catalogue/types.ts'
import { idField } from '../common-fields.ts'

export const AUDIT_ACTIONS = ['create', 'update', 'publish', 'delete'] as const

export const auditEntries = defineResource({
  name: 'audit',
  table: 'audit_entries',
  nodeType: 'AuditEntry',
  defaultSort: '-id',
  indexPrefix: ['account_id', 'record_type', 'record_id'],
  fields: {
    id: idField(),
    action: { type: enumeration(AUDIT_ACTIONS), readOnly: true, filterable: true, collection: true },
    created_at: { type: datetime(), readOnly: true, filterable: true, sortable: true, collection: true },
    created_by: {
      type: computed(() => Type.Object({ id: Type.Union([Type.Integer(), Type.Null()]), name: Type.String() })),
      readOnly: true,
      collection: true,
      compute: (row) => ({ id: row.created_by_id == null ? null : Number(row.created_by_id), name: row.created_by_name }),
      uses: ['created_by_id', 'created_by_name'],
      description: 'the person whose token made the change',
    },
    changes: {
      type: computed(() => Type.Record(Type.String(), Type.Tuple([Type.Unknown(), Type.Unknown()]))),
      readOnly: true,
      collection: true,
      compute: (row) => JSON.parse(row.changes as string),
      uses: ['changes'],
      description: '{field: [old, new]} for every field the change set, as the API renders them',
    },
  },
  internal: {
    record_type: { type: string() },
    record_id: { type: integer(), notNull: true },
    created_by_id: { type: integer() },
    created_by_name: { type: string() },
    changes: { type: string() },
  },
})
