// The tables as Kysely sees them. Both engines store the same values: booleans as 0/1, datetimes
// as whole epoch seconds, and optional strings as '' rather than NULL (the API does not tell the
// two apart, and NOT NULL sort columns keep keyset pagination and its indexes simple).
import type { ColumnType, Generated } from 'kysely'

type Id = Generated<number>

export interface AccountsTable {
  id: string
  name: string
  created_at: number
}

export interface ApiTokensTable {
  id: Id
  account_id: string
  name: string
  scope: 'read' | 'write'
  token_hash: string
  created_at: number
  last_used_at: number | null
  revoked_at: number | null
  /** The person the token belongs to (migration 003; set on every token). */
  person_id: number | null
}

export interface PeopleTable {
  id: Id
  account_id: string
  name: string
  /** '' when none (rendered null). */
  primary_email: string
  disabled: number
  created_at: number
  updated_at: number
  lock_version: ColumnType<number, number | undefined, number>
}

export interface SettingsTable {
  key: string
  value: string
}

export interface ServiceInstancesTable {
  id: Id
  account_id: string
  name: string
  status: string
  source: string
  source_id: string
  created_at: number
  updated_at: number
  lock_version: ColumnType<number, number | undefined, number>
  /** Set by the database on every insert and update (migration 004); never written by code. */
  change_seq: ColumnType<number, never, never>
}

export interface AppOfferingsTable {
  id: Id
  account_id: string
  // NULL on a draft; a published version points at its draft and shares its reference.
  draft_id: number | null
  reference: string
  name: string
  service_instance_id: number
  policy_jwt_alg: string
  webhook_uri_template: string
  policy_jwt_audience: string
  policy_jwt_claim_expires_in: number | null
  configuration_uri_template: string
  card_description: string
  description: string
  features: string
  compliance: string
  picture_uri: string
  disabled: number
  requires_enabled_oauth_person: number
  openid_connect_discovery: number
  ui_extension_version_id: number | null
  source: string
  source_id: string
  created_at: number
  updated_at: number
  lock_version: ColumnType<number, number | undefined, number>
  change_seq: ColumnType<number, never, never>
}

export interface AuditEntriesTable {
  id: Id
  account_id: string
  /** The resource's name: `app_offerings`. */
  record_type: string
  record_id: number
  action: string
  created_at: number
  created_by_id: number | null
  created_by_name: string
  /** `{field: [old, new]}` as JSON text. */
  changes: string
  lock_version: ColumnType<number, number | undefined, number>
  change_seq: ColumnType<number, number | undefined, number>
}

/** A file an account uploaded (migration 007). */
export interface UploadsTable {
  id: Id
  account_id: string
  /** The key the client refers to it by: `attachments/<account>/<random>/<file name>`. */
  key: string
  name: string
  size: number
  content_type: string
  sha256: string
  /** The FileStore that holds it, and its object name there. */
  storage: string
  object: string
  /** The record family that attached it first (`app_offerings:<draft id>`), null until then. */
  claimed_by: string | null
  created_at: number
}

/** An upload attached to a text of a record (migration 007). */
export interface AttachmentsTable {
  id: Id
  account_id: string
  record_type: string
  record_id: number
  field: string
  inline: number
  upload_id: number
  created_at: number
}

export interface FileChunksTable {
  object: string
  seq: number
  data: Uint8Array
}

export interface Schema {
  accounts: AccountsTable
  api_tokens: ApiTokensTable
  people: PeopleTable
  settings: SettingsTable
  service_instances: ServiceInstancesTable
  app_offerings: AppOfferingsTable
  audit_entries: AuditEntriesTable
  uploads: UploadsTable
  attachments: AttachmentsTable
  file_chunks: FileChunksTable
}
