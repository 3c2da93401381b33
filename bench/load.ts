// A small closed-loop load generator on undici: `connections` loops, each sending its next request
// as soon as the previous answer is read, for `seconds`. Reports requests/s and latency percentiles.
// A target's path is either one URL, repeated, or a function that gives each request its own URL
// (see `drawn`): when it gives none, that loop stops, so a run without replacement ends early once
// its URLs are used up.
import { performance } from 'node:perf_hooks'
import { Pool } from 'undici'

export interface Target {
  method?: 'GET' | 'POST' | 'PATCH'
  /** One URL for every request, or the next request's URL (undefined: no more requests). */
  path: string | (() => string | undefined)
  headers?: Record<string, string>
  /** A fresh body for each request (creates need unique names). */
  body?: () => string
}

export interface Result {
  requests: number
  rps: number
  p50: number
  p99: number
  /** Answers whose status was not the expected one. */
  errors: number
  /** Wall time of the run in seconds (shorter than asked when the URLs ran out). */
  elapsed: number
}

/**
 * The URLs of a list, one per request, in list order across all connections: each is asked once
 * (or, with `cycle`, the list starts over when it is used up; fair for a server without caches).
 * An index into an array: costs the load generator nothing measurable.
 */
export function drawn(urls: readonly string[], options: { cycle?: boolean } = {}): () => string | undefined {
  let next = 0
  if (urls.length === 0) return () => undefined
  return options.cycle
    ? () => {
        if (next === urls.length) next = 0
        return urls[next++]
      }
    : () => (next < urls.length ? urls[next++] : undefined)
}

export async function load(origin: string, target: Target, options: { seconds: number; connections: number; expect?: number }): Promise<Result> {
  const pool = new Pool(origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 30_000 })
  const latencies: number[] = []
  let errors = 0
  const expect = options.expect ?? 200
  const method = target.method ?? 'GET'
  const pathOf = typeof target.path === 'string' ? ((fixed: string) => () => fixed)(target.path) : target.path
  const started = performance.now()
  const until = started + options.seconds * 1000
  const loop = async () => {
    while (performance.now() < until) {
      const path = pathOf()
      if (path === undefined) return
      const t0 = performance.now()
      const res = await pool.request({ method, path, headers: target.headers, body: target.body?.() })
      await res.body.dump({ limit: Infinity })
      latencies.push(performance.now() - t0)
      if (res.statusCode !== expect) errors++
    }
  }
  await Promise.all(Array.from({ length: options.connections }, loop))
  const elapsed = (performance.now() - started) / 1000
  await pool.close()
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  return { requests: latencies.length, rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), errors, elapsed }
}
