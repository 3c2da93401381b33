// The webhook's field catalogue (lifecycle.md, "App instances (installs)"): where events are
// delivered, signed by its policy's key. An install makes the customer's; a provider makes its own.
import { defineResource } from '../../catalogue/resource.ts'
import { boolean, enumeration, isHttpUrl, reference, string, stringList } from '../../catalogue/types.ts'
import { idField, nodeIdField, timestampFields } from '../common-fields.ts'
import { webhookPolicies } from '../webhook-policies/fields.ts'

/**
 * Events a webhook may be for. `app_instance.*` (our choice; the spec names no list) is every
 * event of an app instance: what an install's own webhook receives.
 */
export const WEBHOOK_EVENTS = ['app_instance.*', 'app_instance.create', 'app_instance.update', 'app_instance.delete', 'app_instance.secrets-update', 'webhook.verify'] as const

export const webhooks = defineResource({
  name: 'webhooks',
  table: 'webhooks',
  nodeType: 'Webhook',
  defaultSort: 'id',
  fields: {
    id: idField(),
    nodeID: nodeIdField('Webhook', true),
    event: { type: enumeration(WEBHOOK_EVENTS), required: true, filterable: true, collection: true },
    uri: { type: string({ max: 2048, format: isHttpUrl }), required: true, collection: true },
    webhook_policy: { type: reference(() => webhookPolicies), collection: true },
    name: { type: string({ max: 128, trim: true }), filterable: true, sortable: true, collection: true },
    description: { type: string({ maxBytes: 65_535 }) },
    disabled: { type: boolean(), default: false, filterable: true, collection: true },
    openid_connect_discovery: { type: boolean(), default: false },
    app_offering_references: { type: stringList({ maxItems: 100, max: 161 }), default: [] },
    ...timestampFields(true),
  },
})
