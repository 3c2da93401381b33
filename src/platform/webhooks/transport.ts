// How a delivery leaves (lifecycle.md, "Webhook deliveries"): one POST with undici, no redirect
// followed, the whole exchange bounded by WEBHOOK_TIMEOUT, at most a few KB of the answer read,
// and only to http(s) URIs whose address is public (addresses.ts) unless WEBHOOK_ALLOW_PRIVATE.
// The address is judged where the connection is made: the name's lookup answers only public
// addresses (a name that resolves to 127.0.0.1 is refused), an IP literal is judged as it is.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { isIP, type LookupFunction } from 'node:net'
import { Agent, buildConnector, request } from 'undici'
import { isPublicAddress } from './addresses.ts'

/** Bytes of an answer's body kept for the delivery log; the rest is never read. */
export const ANSWER_BYTES = 1024

export interface Outcome {
  /** The answer's status, when one came. */
  status?: number
  durationMs: number
  /** Why the attempt failed, when it did: a sentence for the delivery log, never a secret. */
  error?: string
}

export class RefusedAddress extends Error {
  constructor(what: string) {
    super(`refused: ${what} is not a public address (WEBHOOK_ALLOW_PRIVATE)`)
    this.name = 'RefusedAddress'
  }
}

/** A lookup that answers a name's addresses only when every one of them is public. */
export const publicLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0)
    const refused = addresses.find((a) => !isPublicAddress(a.address))
    if (refused) return callback(new RefusedAddress(`${hostname} (${refused.address})`), '', 0)
    if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses)
    callback(null, addresses[0].address, addresses[0].family)
  })
}

export class Transport {
  private readonly agent: Agent

  constructor(private readonly options: { timeoutMs: number; allowPrivate: boolean }) {
    const timeout = options.timeoutMs
    const connect = buildConnector({ timeout, ...(options.allowPrivate ? {} : { lookup: publicLookup }) })
    this.agent = new Agent({
      headersTimeout: timeout,
      bodyTimeout: timeout,
      connections: 64,
      connect: options.allowPrivate
        ? connect
        : (opts, callback) => {
            // An IP literal is connected to without a lookup: judged here.
            const host = opts.hostname.replace(/^\[|\]$/g, '')
            if (isIP(host) && !isPublicAddress(host)) return callback(new RefusedAddress(host), null)
            connect(opts, callback)
          },
    })
  }

  /** Why a URI may not be delivered to at all, or undefined. */
  static refuse(uri: string): string | undefined {
    let url: URL
    try {
      url = new URL(uri)
    } catch {
      return 'refused: not a URI'
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `refused: ${url.protocol} is not http or https`
    if (url.username || url.password) return 'refused: credentials in the URI'
    return undefined
  }

  /** POSTs the body; answers how it went. Never throws. */
  async post(uri: string, body: string, headers: Record<string, string>): Promise<Outcome> {
    const started = performance.now()
    const took = () => Math.round(performance.now() - started)
    const refused = Transport.refuse(uri)
    if (refused) return { durationMs: 0, error: refused }
    try {
      const answer = await request(uri, {
        method: 'POST',
        dispatcher: this.agent,
        headers,
        body,
        // The whole exchange, connection to last byte read: a slow receiver cannot hold a worker.
        signal: AbortSignal.timeout(this.options.timeoutMs),
        // undici 7 follows no redirect unless its redirect interceptor is installed: a 3xx is a failure.
      })
      await readSome(answer.body)
      const ok = answer.statusCode >= 200 && answer.statusCode < 300
      return { status: answer.statusCode, durationMs: took(), ...(!ok && { error: `answered ${answer.statusCode}` }) }
    } catch (error) {
      return { durationMs: took(), error: describe(error) }
    }
  }

  close(): Promise<void> {
    return this.agent.close()
  }
}

/** Reads at most ANSWER_BYTES of a body, then drops the connection's rest. */
async function readSome(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<void> {
  let read = 0
  for await (const chunk of body) {
    read += chunk.length
    if (read >= ANSWER_BYTES) {
      body.destroy()
      return
    }
  }
}

function describe(error: unknown): string {
  const e = error as { name?: string; code?: string; message?: string; cause?: unknown }
  if (e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' || e.code === 'UND_ERR_CONNECT_TIMEOUT') return 'timed out'
  const cause = (e.cause ?? undefined) as { message?: string } | undefined
  if (e.name === 'RefusedAddress') return e.message!
  if (cause && (cause as Error).name === 'RefusedAddress') return cause.message!
  return String(e.code ?? e.message ?? 'failed').slice(0, 200)
}
