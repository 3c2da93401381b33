// Audit entries: one per write of a record, in the write's own transaction, saying who, when,
// what (create, update, publish, delete) and {field: [old, new]} for every field the write changed, with
// values as the API renders them (a reference as its id).
import type { Resource, Row } from '../catalogue/resource.ts'
import type { Actor } from './rules.ts'
import type { RecordQueries } from './store.ts'

export type AuditAction = 'create' | 'update' | 'publish' | 'delete'

export const AUDIT_TABLE = 'audit_entries'

/** `{field: [old, new]}` for every writable stored field whose rendered value differs. */
export function changes(resource: Resource, before: Row | undefined, after: Row): Record<string, [unknown, unknown]> {
  const changed: Record<string, [unknown, unknown]> = {}
  for (const field of resource.writable) {
    if (!field.column || !field.type.column) continue
    const old = before ? field.type.render(before[field.column]) : null
    const now = field.type.render(after[field.column])
    // A list renders to a new array each time: compared by its text.
    if (old !== now && (typeof now !== 'object' || JSON.stringify(old) !== JSON.stringify(now))) changed[field.name] = [old, now]
  }
  return changed
}

export interface AuditEntry {
  resource: Resource
  account: string
  recordId: number
  action: AuditAction
  actor: Actor
  at: number
  changes: Record<string, [unknown, unknown]>
}

function auditRow(entry: AuditEntry): Row {
  return {
    account_id: entry.account,
    record_type: entry.resource.name,
    record_id: entry.recordId,
    action: entry.action,
    created_at: entry.at,
    created_by_id: entry.actor.id,
    created_by_name: entry.actor.name,
    changes: JSON.stringify(entry.changes),
  }
}

/** Writes the entries; call it inside the transaction of the writes they stand for. */
export async function writeAudit(trx: RecordQueries, entries: AuditEntry[]): Promise<void> {
  if (entries.length > 0) await trx.insertInto(AUDIT_TABLE).values(entries.map(auditRow)).execute()
}
