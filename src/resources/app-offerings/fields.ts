// The app offering's field catalogue (app-offerings.md, "Fields"), in the order of that table.
import { Type } from 'typebox'
import { defineResource, OWNER_NAME, type Row } from '../../catalogue/resource.ts'
import { MAX_PER_TEXT, renderAttachments, renderText } from '../../records/attachments.ts'
import { boolean, computed, duration, enumeration, integer, isUriTemplate, objectList, reference, string } from '../../catalogue/types.ts'
import { idField, nodeIdField, sourceFields, timestampFields } from '../common-fields.ts'
import { serviceInstances } from '../service-instances/fields.ts'
import { uiExtensionVersions } from '../ui-extensions/fields.ts'
import { isPictureUri, MAX_PICTURE_TEXT } from './picture.ts'

const ATTACHMENT_SCHEMA = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  size: Type.Integer(),
  content_type: Type.String(),
  inline: Type.Boolean(),
  field: Type.String({ enum: ['description', 'features', 'compliance'] }),
  uri: Type.String({ format: 'uri' }),
})

export const JWT_ALGORITHMS = ['rs256', 'rs384', 'rs512', 'es256', 'es384', 'es512'] as const

// What each item of a `<text>_attachments` list means is judged with the uploads it names (records/attachments.ts).
const attachmentList = () => objectList(() => undefined)
const text = () => string({ maxBytes: 65_535 })
/** A text answers the download URIs of its inline images where it stores their keys. */
const showsAttachments = (name: string) => (value: unknown, row: Row) => renderText(value as string, row, name)
/** The longest `attachments` list as JSON: 50 per text, each with a name of 255 bytes escaped and a URI. */
const MAX_ATTACHMENTS_TEXT = 3 * MAX_PER_TEXT * 2200

export const appOfferings = defineResource({
  name: 'app_offerings',
  table: 'app_offerings',
  nodeType: 'AppOffering',
  defaultSort: 'name',
  fields: {
    id: idField(),
    nodeID: nodeIdField('AppOffering', true),
    name: { type: string({ max: 128, trim: true }), required: true, filterable: true, sortable: true, collection: true },
    reference: { type: string({ max: 161, trim: true }), required: true, filterable: true, collection: true },
    service_instance: { type: reference(() => serviceInstances), required: true, collection: true },
    policy_jwt_alg: { type: enumeration(JWT_ALGORITHMS), required: true, collection: true },
    webhook_uri_template: { type: string({ max: 255, format: isUriTemplate }), required: true, collection: true },
    policy_jwt_audience: { type: string({ max: 2048 }), collection: true },
    policy_jwt_claim_expires_in: { type: duration({ min: 1, max: 525_600 }), collection: true },
    configuration_uri_template: { type: string({ max: 255, format: isUriTemplate }) },
    card_description: { type: string({ max: 255 }) },
    description: { type: text(), decorate: showsAttachments('description') },
    features: { type: text(), decorate: showsAttachments('features') },
    compliance: { type: text(), decorate: showsAttachments('compliance') },
    description_attachments: { type: attachmentList(), writeOnly: true, description: 'uploads to attach: [{key, filesize, inline, _destroy}]' },
    features_attachments: { type: attachmentList(), writeOnly: true, description: 'uploads to attach: [{key, filesize, inline, _destroy}]' },
    compliance_attachments: { type: attachmentList(), writeOnly: true, description: 'uploads to attach: [{key, filesize, inline, _destroy}]' },
    attachments: {
      type: computed(() => Type.Array(ATTACHMENT_SCHEMA), MAX_ATTACHMENTS_TEXT),
      readOnly: true,
      compute: renderAttachments,
      uses: [],
      description: 'every attachment of the three texts, with the URI to download it from',
    },
    picture_uri: { type: string({ format: isPictureUri, formatMax: MAX_PICTURE_TEXT }) },
    disabled: { type: boolean(), default: false, filterable: true },
    requires_enabled_oauth_person: { type: boolean(), default: false },
    // In the real API since April 2026: installs' webhooks publish their keys by OpenID Connect Discovery.
    openid_connect_discovery: { type: boolean(), default: false },
    // A version of a UI extension of the account.
    ui_extension_version: { type: reference(() => uiExtensionVersions) },
    // Read-only (lifecycle.md): a published version points at its draft; its number per reference.
    published: {
      type: computed(() => Type.Boolean(), 8),
      readOnly: true,
      compute: (row) => row.draft_id != null,
      uses: ['draft_id'],
      description: 'true on a published version, false on the draft',
    },
    version: {
      type: computed(() => Type.Integer(), 16),
      readOnly: true,
      compute: (row) => (row.draft_id == null ? null : Number(row.version)),
      uses: ['draft_id', 'version'],
      description: '1, 2, ... per reference among published versions; null on the draft',
    },
    // On a record another account shares (all_latest_published): its owner; left out of the account's own.
    account: {
      type: computed(() => Type.Object({ id: Type.String(), name: Type.String() }), 300),
      readOnly: true,
      compute: (row) => (row[OWNER_NAME] == null ? undefined : { id: row.account_id, name: row[OWNER_NAME] }),
      uses: ['account_id'],
      description: 'the provider account, on an offering of another account',
    },
    ...sourceFields({ sourceID: true }),
    ...timestampFields(true),
  },
  internal: {
    // NULL on a draft; a published version points at its draft and shares its reference.
    draft_id: { type: integer() },
    // A published version's number; on a draft, the number of its latest published version (0: none).
    version: { type: integer(), notNull: true },
  },
})
