// The webhook policy's field catalogue (lifecycle.md, "App instances (installs)"): how the
// deliveries of the webhooks that name it are signed. Its key pairs live beside it in
// `webhook_keys` (never in an answer); the public key shows once, as `public_key_pem` in the
// answer that creates the policy, and afterwards only in the key sets (http/jwks.ts).
import { Type } from 'typebox'
import { defineResource } from '../../catalogue/resource.ts'
import { boolean, computed, duration, enumeration, string } from '../../catalogue/types.ts'
import { JWT_ALGORITHMS } from '../app-offerings/fields.ts'
import { idField, nodeIdField, timestampFields } from '../common-fields.ts'

/** The row key that carries a key pair's public PEM in the answer of the write that made it. */
export const NEW_PUBLIC_KEY = 'new_public_key_pem'

/** `public_key_pem`: only in the answer of the write that made the key pair (install or create). */
export const publicKeyPemField = (description: string) => ({
  type: computed(() => Type.String(), 2048),
  readOnly: true,
  compute: (row: Record<string, unknown>) => (row[NEW_PUBLIC_KEY] as string | undefined) ?? undefined,
  uses: [],
  description,
})

export const webhookPolicies = defineResource({
  name: 'webhook_policies',
  table: 'webhook_policies',
  nodeType: 'WebhookPolicy',
  defaultSort: 'id',
  fields: {
    id: idField(),
    nodeID: nodeIdField('WebhookPolicy', true),
    // Generated from the algorithm and the key id (rules.ts).
    name: { type: string({ max: 128 }), readOnly: true, filterable: true, sortable: true, collection: true },
    jwt_alg: { type: enumeration(JWT_ALGORITHMS), required: true, filterable: true, collection: true },
    jwt_audience: { type: string({ max: 2048 }), collection: true },
    jwt_claim_expires_in: { type: duration({ min: 1, max: 525_600 }), collection: true },
    disabled: { type: boolean(), default: false, filterable: true, collection: true },
    public_key_pem: publicKeyPemField('the public key, in the answer that creates the policy only; afterwards see /jwks'),
    ...timestampFields(true),
  },
  internal: {
    // Whose issuer signs with it (lifecycle.md: the provider's): an install's policy is the
    // customer's record, but its keys are in the provider account's key set.
    issuer_account: { type: string(), notNull: true },
  },
})
