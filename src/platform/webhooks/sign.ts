// A delivery's JWT (lifecycle.md, "Webhook deliveries"): header {typ, alg, kid}; claims `data`,
// `jti` (the delivery's uuid), `sub` (the webhook id as a string), `iss`, `iat`, `nbf`, `aud`
// when the policy has an audience and `exp = iat + minutes * 60` when it has an expiry.
import { SignJWT, type CryptoKey } from 'jose'
import type { Config } from '../../config.ts'

export interface SigningPolicy {
  kid: string
  alg: string
  key: CryptoKey
  audience: string | undefined
  /** Minutes. */
  expiresIn: number | undefined
}

export interface Delivery {
  uuid: string
  webhookId: number
  issuer: string
  data: unknown
}

export function signDelivery(policy: SigningPolicy, delivery: Delivery, now = Math.floor(Date.now() / 1000)): Promise<string> {
  let jwt = new SignJWT({ data: delivery.data as Record<string, unknown> })
    .setProtectedHeader({ typ: 'JWT', alg: policy.alg, kid: policy.kid })
    .setJti(delivery.uuid)
    .setSubject(String(delivery.webhookId))
    .setIssuer(delivery.issuer)
    .setIssuedAt(now)
    .setNotBefore(now)
  if (policy.audience) jwt = jwt.setAudience(policy.audience)
  if (policy.expiresIn) jwt = jwt.setExpirationTime(now + policy.expiresIn * 60)
  return jwt.sign(policy.key)
}

/** The issuer URL of an account: the template with `{account}` replaced. */
export function issuerOf(template: string, account: string): string {
  return template.replaceAll('{account}', encodeURIComponent(account))
}

/** The `iss` template of this deployment: WEBHOOK_ISSUER, else `<PUBLIC_URL or the server's URL>/accounts/{account}`. */
export function issuerTemplate(config: Config, ownOrigin: string): string {
  return config.webhooks.issuer ?? `${(config.publicUrl?.href ?? ownOrigin).replace(/\/+$/, '')}/accounts/{account}`
}
