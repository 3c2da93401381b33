// A webhook policy's own rules: every policy has a key pair of its algorithm, made before the
// write's transaction opens (a pooled pair: storage/signing-keys.ts) and stored beside the row in
// that transaction, its private half sealed. A new `jwt_alg` brings a new pair; the old ones stay
// in the key sets until the policy is deleted, so deliveries signed with them still verify.
import type { Row } from '../../catalogue/resource.ts'
import type { Rules, Unit, Write } from '../../records/rules.ts'
import { keyPool, sealPrivateKey, type JwtAlgorithm } from '../../storage/signing-keys.ts'
import { NEW_PUBLIC_KEY } from './fields.ts'

export const KEYS_TABLE = 'webhook_keys'
export const USED_BY_WEBHOOKS = 'Cannot delete record because dependent webhooks exist'
export const USED_BY_INSTANCES = 'Cannot delete record because dependent app instances exist'

async function keyPair({ mode, account, services, existing }: Write, columns: Row) {
  const alg = columns.jwt_alg as JwtAlgorithm | undefined
  if (!alg) return
  const key = await keyPool.take(alg)
  const sealed = sealPrivateKey(services.secretKey, key.kid, key.privateJwk)
  return {
    // The name says which key signs: it is generated, never written by a client.
    before: async () => ({ name: `${key.alg} policy ${key.kid.slice(0, 8)}`, ...(mode === 'create' && !columns.issuer_account && { issuer_account: account.id }) }),
    after: async (unit: Unit, row: Row) => {
      await unit.trx
        .insertInto(KEYS_TABLE)
        .values({
          account_id: String(row.account_id ?? existing?.account_id ?? account.id),
          policy_id: Number(row.id),
          issuer_account: String(row.issuer_account),
          kid: key.kid,
          alg: key.alg,
          public_jwk: JSON.stringify(key.publicJwk),
          private_key: sealed,
          created_at: unit.now,
        })
        .execute()
      row[NEW_PUBLIC_KEY] = key.publicKeyPem
    },
  }
}

export const webhookPolicyRules: Rules = {
  effects: keyPair,
  deletable: {
    blockers: [
      { table: 'webhooks', column: 'webhook_policy_id', error: ['base', USED_BY_WEBHOOKS] },
      { table: 'app_instances', column: 'webhook_policy_id', error: ['base', USED_BY_INSTANCES] },
    ],
    dependents: [{ table: KEYS_TABLE, column: 'policy_id' }],
  },
}
