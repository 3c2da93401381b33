// A delivery attempt's catalogue (lifecycle.md, "Webhook deliveries": `GET
// /v1/webhooks/:id/deliveries` lists attempts): read-only, written by the delivery worker
// (platform/webhooks), listed under its webhook newest first with every collection feature.
import { defineResource } from '../../catalogue/resource.ts'
import { datetime, enumeration, integer, string } from '../../catalogue/types.ts'
import { idField } from '../common-fields.ts'

export const ATTEMPT_STATUSES = ['delivered', 'failed'] as const

export const webhookDeliveries = defineResource({
  name: 'deliveries',
  table: 'webhook_delivery_attempts',
  nodeType: 'WebhookDelivery',
  defaultSort: '-id',
  indexPrefix: ['account_id', 'webhook_id'],
  fields: {
    id: idField(),
    // The X-4me-Delivery of the delivery (its `jti`): the same on every attempt of it.
    delivery: { type: string({ max: 36 }), readOnly: true, filterable: true, collection: true },
    event: { type: string({ max: 64 }), readOnly: true, filterable: true, collection: true },
    attempt: { type: integer(), readOnly: true, collection: true },
    status: { type: enumeration(ATTEMPT_STATUSES), readOnly: true, filterable: true, collection: true },
    // 0 in the column when no answer came (a connection error, a timeout): rendered null.
    response_code: { type: { ...integer(), render: (stored: unknown) => (stored ? Number(stored) : null) }, readOnly: true, filterable: true, collection: true },
    // Milliseconds from sending to the end of the answer (or of the failure).
    duration: { type: integer(), column: 'duration_ms', readOnly: true, collection: true },
    error: { type: string({ max: 500 }), readOnly: true, collection: true },
    created_at: { type: datetime(), readOnly: true, filterable: true, sortable: true, collection: true },
  },
  internal: {
    webhook_id: { type: integer(), notNull: true },
    delivery_id: { type: integer(), notNull: true },
  },
})
