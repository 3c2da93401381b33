// The app instance's field catalogue (lifecycle.md, "App instances (installs)"): a customer's
// install of a provider's published version. The row belongs to the customer; the provider reads
// it and changes its own fields (rules.ts, records/sharing.ts byProvider).
import { Type } from 'typebox'
import { defineResource, OWNER_NAME } from '../../catalogue/resource.ts'
import { boolean, computed, reference, string } from '../../catalogue/types.ts'
import { appOfferings } from '../app-offerings/fields.ts'
import { idField, nodeIdField, timestampFields } from '../common-fields.ts'
import { publicKeyPemField, webhookPolicies } from '../webhook-policies/fields.ts'
import { webhooks } from '../webhooks/fields.ts'

export const appInstances = defineResource({
  name: 'app_instances',
  table: 'app_instances',
  nodeType: 'AppInstance',
  defaultSort: 'id',
  fields: {
    id: idField(),
    nodeID: nodeIdField('AppInstance', true),
    // The version installed, in the provider's account: {id, name, reference}.
    app_offering: { type: reference(() => appOfferings), required: true, collection: true, targetOwner: 'provider_account', targetColumns: ['reference'] },
    customer_account: {
      type: computed(() => Type.Object({ id: Type.String(), name: Type.String() }), 300),
      readOnly: true,
      collection: true,
      compute: (row) => ({ id: row.account_id, name: row[OWNER_NAME] ?? null }),
      uses: ['account_id'],
      description: 'the account that installed the offering',
    },
    enabled_by_customer: { type: boolean(), default: true, collection: true, description: 'set by the customer' },
    // Set by the provider; no default here, so a body that names them is told apart (rules.ts).
    disabled: { type: boolean(), collection: true, description: 'set by the provider' },
    suspended: { type: boolean(), collection: true, description: 'set by the provider' },
    suspension_comment: { type: string({ maxBytes: 65_535 }), description: 'set by the provider' },
    // Made by the install, in its transaction (rules.ts): the customer's webhook and its policy.
    webhook: { type: reference(() => webhooks), readOnly: true, description: 'made by the install' },
    webhook_policy: { type: reference(() => webhookPolicies), readOnly: true, description: 'made by the install' },
    public_key_pem: publicKeyPemField("the webhook policy's public key, in the answer of the install only"),
    ...timestampFields(true),
  },
  internal: {
    // The version's provider and reference: the provider's reads, and one instance per reference.
    provider_account: { type: string(), notNull: true },
    reference: { type: string(), notNull: true },
  },
})
