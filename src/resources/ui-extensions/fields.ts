// UI extensions and their versions (lifecycle.md, "UI extension versions"): an extension is the
// working copy (name, html, css, javascript); activating it makes an immutable version, numbered
// 1, 2, ... per extension, which becomes the active one while the previous active one is
// archived. An app offering's `ui_extension_version` points at a version of its own account.
import { Type } from 'typebox'
import { defineResource } from '../../catalogue/resource.ts'
import { computed, datetime, enumeration, integer, string } from '../../catalogue/types.ts'
import { idField, nodeIdField, timestampFields } from '../common-fields.ts'

const code = () => string({ maxBytes: 65_535 })

export const uiExtensions = defineResource({
  name: 'ui_extensions',
  table: 'ui_extensions',
  nodeType: 'UiExtension',
  defaultSort: 'name',
  fields: {
    id: idField(),
    nodeID: nodeIdField('UiExtension', true),
    name: { type: string({ max: 128, trim: true }), required: true, filterable: true, sortable: true, collection: true },
    html: { type: code() },
    css: { type: code() },
    javascript: { type: code() },
    ...timestampFields(true),
  },
  internal: {
    // How many versions it has had: activating takes the next number from this row.
    versions: { type: integer(), notNull: true },
  },
})

export const UI_EXTENSION_VERSION_STATUSES = ['active', 'archived'] as const
const archivedAt = datetime()

export const uiExtensionVersions = defineResource({
  name: 'versions',
  table: 'ui_extension_versions',
  nodeType: 'UiExtensionVersion',
  defaultSort: '-id',
  fields: {
    id: idField(),
    version_nr: { type: integer(), readOnly: true, collection: true },
    status: { type: enumeration(UI_EXTENSION_VERSION_STATUSES), readOnly: true, collection: true },
    activated_at: { type: datetime(), readOnly: true, collection: true },
    archived_at: {
      type: computed(() => Type.String({ format: 'date-time' }), 40),
      readOnly: true,
      collection: true,
      compute: (row) => archivedAt.render(row.archived_at),
      uses: ['archived_at'],
    },
    html: { type: code(), readOnly: true },
    css: { type: code(), readOnly: true },
    javascript: { type: code(), readOnly: true },
  },
  internal: {
    ui_extension_id: { type: integer(), notNull: true },
    // The extension's name when the version was made: what a reference to it shows.
    name: { type: string(), notNull: true },
    archived_at: { type: integer() },
  },
})
