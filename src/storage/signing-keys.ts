// Key pairs that sign webhook deliveries (lifecycle.md, "Webhook deliveries"): made with jose,
// whose generateKeyPair is WebCrypto's and runs off the event loop (RSA takes ~150 ms here); the
// private key stored encrypted with AES-256-GCM under a key derived from SECRET_KEY (HKDF), so
// the database alone signs nothing. A small pool per algorithm keeps generation off the request
// path: an install takes a pair made beforehand, and the pool makes the next one in the background.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, exportSPKI, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose'

/** The algorithms of `policy_jwt_alg` (lowercase, as the API writes them). */
export type JwtAlgorithm = 'rs256' | 'rs384' | 'rs512' | 'es256' | 'es384' | 'es512'

/** A fresh key pair as it is stored: the public half in the clear, the private half sealed. */
export interface SigningKey {
  kid: string
  /** JOSE name: RS256 ... ES512. */
  alg: string
  publicJwk: JWK
  publicKeyPem: string
  privateJwk: JWK
}

const jose = (alg: string) => alg.toUpperCase()

/** A new key pair: RSA 2048 bit for rs*, the matching NIST curve for es*. Never blocks the event loop. */
export async function generateSigningKey(alg: JwtAlgorithm): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(jose(alg), { extractable: true, modulusLength: 2048 })
  const publicJwk = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(publicJwk)
  return { kid, alg: jose(alg), publicJwk: { ...publicJwk, kid, alg: jose(alg), use: 'sig' }, publicKeyPem: await exportSPKI(publicKey), privateJwk: await exportJWK(privateKey) }
}

/** Pairs made ahead of need, per algorithm: an install answers as fast with RSA as with ECDSA. */
export class KeyPool {
  private readonly ready = new Map<JwtAlgorithm, SigningKey[]>()
  private readonly making = new Map<JwtAlgorithm, Promise<void>>()

  constructor(private readonly size = 2) {}

  /** A pair for this algorithm: one made beforehand when there is one, else a new one; refills behind. */
  async take(alg: JwtAlgorithm): Promise<SigningKey> {
    const key = this.ready.get(alg)?.shift()
    this.refill(alg)
    return key ?? generateSigningKey(alg)
  }

  /** Fills the pool of this algorithm up to its size, one pair at a time, in the background. */
  refill(alg: JwtAlgorithm): void {
    if (this.size === 0 || this.making.has(alg)) return
    const keys = this.ready.get(alg) ?? []
    this.ready.set(alg, keys)
    const next = async () => {
      while (keys.length < this.size) keys.push(await generateSigningKey(alg))
    }
    // A failed generation leaves the pool short; take() then generates on demand.
    this.making.set(alg, next().catch(() => {}).finally(() => this.making.delete(alg)))
  }

  /** Waits for the pairs being made (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all(this.making.values())
  }
}

/** The process's pool: pairs are only ever taken once, so sharing it between writers is safe. */
export const keyPool = new KeyPool()

// The sealing key: HKDF-SHA-256 of SECRET_KEY, bound to this use by its info string.
const sealingKeys = new Map<string, Buffer>()
function sealingKey(secret: string): Buffer {
  let key = sealingKeys.get(secret)
  if (!key) sealingKeys.set(secret, (key = Buffer.from(hkdfSync('sha256', secret, 'app-offerings', 'webhook signing keys v1', 32))))
  return key
}

/** The private JWK sealed with AES-256-GCM: `v1.<iv>.<tag>.<ciphertext>`, base64url. `kid` is bound as associated data. */
export function sealPrivateKey(secret: string, kid: string, privateJwk: JWK): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', sealingKey(secret), iv)
  cipher.setAAD(Buffer.from(kid))
  const sealed = Buffer.concat([cipher.update(JSON.stringify(privateJwk)), cipher.final()])
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), sealed.toString('base64url')].join('.')
}

/** The private JWK back from its sealed form; throws when the secret or the kid is not the one it was sealed with. */
export function openPrivateJwk(secret: string, kid: string, sealed: string): JWK {
  const [version, iv, tag, data] = sealed.split('.')
  if (version !== 'v1') throw new Error('unknown sealed key format')
  const decipher = createDecipheriv('aes-256-gcm', sealingKey(secret), Buffer.from(iv, 'base64url'))
  decipher.setAAD(Buffer.from(kid))
  decipher.setAuthTag(Buffer.from(tag, 'base64url'))
  return JSON.parse(Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8')) as JWK
}

/** The private signing key back from its sealed form (not extractable). */
export async function openPrivateKey(secret: string, kid: string, sealed: string, alg: string): Promise<CryptoKey> {
  return (await importJWK(openPrivateJwk(secret, kid, sealed), alg)) as CryptoKey
}
