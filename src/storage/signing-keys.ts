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

/** A key pair before it is labelled with the algorithm it will sign with. */
interface RawKey {
  kid: string
  publicJwk: JWK
  publicKeyPem: string
  privateJwk: JWK
}

/**
 * Which pairs can serve an algorithm: every RSA pair serves RS256, RS384 and RS512 alike (the
 * hash is chosen when signing), an EC pair only its own curve's algorithm.
 */
const familyOf = (alg: JwtAlgorithm) => (alg.startsWith('rs') ? 'rs256' : alg)

async function generateRaw(alg: JwtAlgorithm): Promise<RawKey> {
  const { publicKey, privateKey } = await generateKeyPair(jose(alg), { extractable: true, modulusLength: 2048 })
  const publicJwk = await exportJWK(publicKey)
  return { kid: await calculateJwkThumbprint(publicJwk), publicJwk, publicKeyPem: await exportSPKI(publicKey), privateJwk: await exportJWK(privateKey) }
}

function labelled(raw: RawKey, alg: JwtAlgorithm): SigningKey {
  const name = jose(alg)
  return { kid: raw.kid, alg: name, publicJwk: { ...raw.publicJwk, kid: raw.kid, alg: name, use: 'sig' }, publicKeyPem: raw.publicKeyPem, privateJwk: raw.privateJwk }
}

/** A new key pair: RSA 2048 bit for rs*, the matching NIST curve for es*. Never blocks the event loop. */
export async function generateSigningKey(alg: JwtAlgorithm): Promise<SigningKey> {
  return labelled(await generateRaw(alg), alg)
}

/**
 * Pairs made ahead of need, per family (all RSA algorithms share one): an install answers about
 * as fast with RSA as with ECDSA. A family's pool starts filling at its first use, `parallel`
 * pairs at a time (WebCrypto runs them on libuv's thread pool), up to `size`.
 */
export class KeyPool {
  private readonly ready = new Map<string, RawKey[]>()
  private readonly making = new Map<string, Set<Promise<void>>>()

  constructor(
    private readonly size = 4,
    private readonly parallel = 2,
  ) {}

  /** A pair for this algorithm: one made beforehand when there is one, else a new one; refills behind. */
  async take(alg: JwtAlgorithm): Promise<SigningKey> {
    const raw = this.ready.get(familyOf(alg))?.shift()
    this.refill(alg)
    return raw ? labelled(raw, alg) : generateSigningKey(alg)
  }

  /** Starts making pairs of this algorithm's family until the pool holds `size` (made or on the way). */
  refill(alg: JwtAlgorithm): void {
    const family = familyOf(alg)
    const keys = this.ready.get(family) ?? []
    this.ready.set(family, keys)
    const making = this.making.get(family) ?? new Set()
    this.making.set(family, making)
    while (making.size < this.parallel && keys.length + making.size < this.size) {
      const made: Promise<void> = generateRaw(family as JwtAlgorithm).then(
        (raw) => {
          keys.push(raw)
          making.delete(made)
          this.refill(alg)
        },
        // A failed generation leaves the pool short (and stops refilling it): take() generates on demand.
        () => void making.delete(made),
      )
      making.add(made)
    }
  }

  /** Waits for the pairs being made (tests, shutdown). */
  async settled(): Promise<void> {
    while ([...this.making.values()].some((set) => set.size > 0)) await Promise.all([...this.making.values()].flatMap((set) => [...set]))
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
