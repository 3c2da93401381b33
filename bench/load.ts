// A small closed-loop load generator on undici: `connections` loops, each sending its next request
// as soon as the previous answer is read, for `seconds`. Reports requests/s and latency percentiles.
import { performance } from 'node:perf_hooks'
import { Pool } from 'undici'

export interface Target {
  method?: 'GET' | 'POST'
  path: string
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
}

export async function load(origin: string, target: Target, options: { seconds: number; connections: number; expect?: number }): Promise<Result> {
  const pool = new Pool(origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 30_000 })
  const latencies: number[] = []
  let errors = 0
  const expect = options.expect ?? 200
  const started = performance.now()
  const until = started + options.seconds * 1000
  const loop = async () => {
    while (performance.now() < until) {
      const t0 = performance.now()
      const res = await pool.request({ method: target.method ?? 'GET', path: target.path, headers: target.headers, body: target.body?.() })
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
  return { requests: latencies.length, rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), errors }
}
