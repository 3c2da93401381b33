import { Pool } from 'undici'
import { readFileSync } from 'node:fs'
const [origin, token, kind, seconds] = process.argv.slice(2)
const pool = new Pool(origin, { connections: 8 })
const lo = Number(process.env.LO), hi = Number(process.env.HI)
const pick = () => lo + Math.floor(Math.random() * (hi - lo))
const paths: Record<string, () => string> = {
  get: () => `/v1/app_offerings/${pick()}`,
  list: () => `/v1/app_offerings?id=${[pick(), pick(), pick(), pick(), pick()].join(',')}`,
  name: () => `/v1/app_offerings?per_page=20&page=${1 + Math.floor(Math.random() * 200)}`,
  same: () => `/v1/app_offerings`,
}
const until = Date.now() + Number(seconds) * 1000
let n = 0, bad = 0
const stat = () => { const f = readFileSync(`/proc/${process.env.PID}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]) }
const c0 = stat(), t0 = Date.now()
await Promise.all(Array.from({ length: 8 }, async () => { while (Date.now() < until) { const r = await pool.request({ path: paths[kind](), method: 'GET', headers: { authorization: `Bearer ${token}` } }); await r.body.dump(); if (r.statusCode !== 200) bad++; n++ } }))
const cpu = (stat() - c0) * 10 / n * 1000
console.log(kind, Math.round(n / ((Date.now() - t0) / 1000)), 'req/s', cpu.toFixed(0), 'µs CPU/req', bad, 'bad')
await pool.close()
