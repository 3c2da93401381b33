// A write workload whose every acknowledgement is written down, and the check that the database
// still holds each of them after whatever happened to the server in between (a SIGKILL, killed
// database connections). Shared by test/reliability and scripts/soak.
import { randomBytes } from 'node:crypto'
import type { Database } from '../../src/storage/database.ts'
import type { Answer, Client } from './server-process.ts'

// A chain gives up after this many refusals in a row (the server is gone for good).
const RETRIES = 40

export interface Ledger {
  serviceInstanceId: number
  /** In every name this workload gave, so that earlier workloads' records can be told apart. */
  tag: string
  /** Every create sent: name -> body. */
  attempted: Map<string, Record<string, unknown>>
  /** Creates answered 201: id -> the answer's body. */
  created: Map<number, Record<string, unknown>>
  /** Update chains: the last acknowledged body and the one change that may be in flight. */
  chains: Chain[]
  sent: number
  acknowledged: number
  /** Answers other than 2xx or a failed connection, by status ("network" for no answer). */
  refused: Map<string, number>
}

interface Chain {
  id: number
  acknowledged: Record<string, unknown>
  /** Sent without an answer: the record may or may not have it. */
  unanswered?: Record<string, unknown>
}

export interface WorkloadOptions {
  creates: number
  chains: number
  chainLength: number
  /** Called once, when this many writes have been acknowledged. */
  fault?: { after: number; inject: () => Promise<void> | void }
  /** Statuses that are a correct answer to a write while the fault lasts (e.g. 503). */
  tolerated?: number[]
  /** Retry a refused chain step instead of ending the chain (the database comes back). */
  retryChains?: boolean
  tag?: string
}

export function offeringBody(serviceInstanceId: number, name: string): Record<string, unknown> {
  const salt = randomBytes(6).toString('hex')
  return {
    name,
    service_instance_id: serviceInstanceId,
    policy_jwt_alg: 'es256',
    webhook_uri_template: `https://hooks.example.com/{account}/${salt}`,
    policy_jwt_audience: `aud-${salt}`,
    policy_jwt_claim_expires_in: 60,
    card_description: `card ${salt}`,
    description: `description ${salt} `.repeat(20),
    disabled: salt.charCodeAt(0) % 2 === 0,
  }
}

export async function setUp(client: Client): Promise<number> {
  const res = await client.call('POST', '/v1/service_instances', { name: 'Crash target' })
  if (res.status !== 201) throw new Error(`service instance: ${res.status} ${res.text}`)
  return res.json().id
}

/**
 * Creates `chains` offerings, then at once `creates` more and `chains` sequences of updates,
 * calling `fault.inject` in the middle. A chain stops at its first unanswered update (unless
 * retryChains), so at most one of its updates is in doubt.
 */
export async function runWorkload(client: Client, serviceInstanceId: number, options: WorkloadOptions): Promise<Ledger> {
  const tag = options.tag ?? randomBytes(3).toString('hex')
  const ledger: Ledger = { serviceInstanceId, tag, attempted: new Map(), created: new Map(), chains: [], sent: 0, acknowledged: 0, refused: new Map() }
  let faulted = false

  const send = async (method: string, path: string, body: Record<string, unknown>): Promise<Answer | undefined> => {
    ledger.sent++
    let answer: Answer | undefined
    try {
      answer = await client.call(method, path, body)
    } catch {
      answer = undefined
    }
    const ok = answer !== undefined && answer.status >= 200 && answer.status < 300
    if (ok) ledger.acknowledged++
    else {
      const key = answer ? String(answer.status) : 'network'
      ledger.refused.set(key, (ledger.refused.get(key) ?? 0) + 1)
      if (answer && !(options.tolerated ?? []).includes(answer.status)) {
        throw new Error(`${method} ${path} answered ${answer.status} ${answer.text}`)
      }
    }
    if (options.fault && !faulted && ledger.acknowledged >= options.fault.after) {
      faulted = true
      await options.fault.inject()
    }
    return ok ? answer : undefined
  }

  const create = async (name: string) => {
    const body = offeringBody(serviceInstanceId, name)
    ledger.attempted.set(name, body)
    const answer = await send('POST', '/v1/app_offerings', body)
    if (answer) ledger.created.set(answer.json().id, answer.json())
    return answer?.json() as Record<string, unknown> | undefined
  }

  for (let i = 0; i < options.chains; i++) {
    const record = await create(`Chain ${tag} ${i}`)
    if (!record) throw new Error('could not create the records to update')
    ledger.chains.push({ id: record.id as number, acknowledged: record })
  }

  const runChain = async (chain: Chain) => {
    for (let step = 1; step <= options.chainLength; step++) {
      const change = { description: `step ${step} of ${chain.id}`, card_description: `card ${step}`, policy_jwt_claim_expires_in: step }
      for (let attempt = 1; ; attempt++) {
        chain.unanswered = change
        const answer = await send('PATCH', `/v1/app_offerings/${chain.id}`, change)
        if (answer) {
          chain.acknowledged = answer.json()
          chain.unanswered = undefined
          break
        }
        if (!options.retryChains || attempt >= RETRIES) return
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
  }

  await Promise.all([
    ...Array.from({ length: options.creates }, (_, i) => create(`Crash ${tag} ${i}`)),
    ...ledger.chains.map(runChain),
  ])
  return ledger
}

export interface Verdict {
  /** Acknowledged writes checked against the restarted server. */
  checked: number
  /** Acknowledged writes missing or different. */
  lost: number
  /** Unacknowledged creates that were committed anyway (allowed: the answer was lost). */
  committedUnanswered: number
  problems: string[]
}

/** Every acknowledged write is there exactly as answered; nothing else is there half-written. */
export async function verify(client: Client, database: Database, ledger: Ledger): Promise<Verdict> {
  const verdict: Verdict = { checked: 0, lost: 0, committedUnanswered: 0, problems: [] }
  const fail = (problem: string, lost = false) => {
    verdict.problems.push(problem)
    if (lost) verdict.lost++
  }

  const chained = new Set(ledger.chains.map((c) => c.id))
  for (const [id, body] of ledger.created) {
    if (chained.has(id)) continue
    verdict.checked++
    const res = await client.call('GET', `/v1/app_offerings/${id}`)
    if (res.status !== 200) fail(`acknowledged create ${id} answers ${res.status}`, true)
    else if (!same(res.json(), body)) fail(`acknowledged create ${id} differs: ${res.text}`, true)
  }
  for (const chain of ledger.chains) {
    verdict.checked++
    const res = await client.call('GET', `/v1/app_offerings/${chain.id}`)
    if (res.status !== 200) {
      fail(`updated record ${chain.id} answers ${res.status}`, true)
      continue
    }
    const now = res.json()
    if (same(now, chain.acknowledged)) continue
    // The one update in doubt may have committed: then the record is exactly that update.
    const applied = chain.unanswered && Object.entries(chain.unanswered).every(([k, v]) => now[k] === v)
    const rest = (record: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(record).filter(([k]) => !(k in (chain.unanswered ?? {})) && k !== 'updated_at'))
    if (!applied || !same(rest(now), rest(chain.acknowledged))) fail(`updated record ${chain.id} is ${res.text}, acknowledged ${JSON.stringify(chain.acknowledged)}`, true)
  }

  // Straight from the tables: one row per reference, and each row is a whole create that was sent.
  const rows = await database.db.selectFrom('app_offerings').selectAll().execute()
  const references = new Map<string, number>()
  for (const row of rows) {
    references.set(row.reference, (references.get(row.reference) ?? 0) + 1)
    const tag = /^(?:Chain|Crash) (\S+) \d+$/.exec(row.name)?.[1]
    if (tag !== undefined && tag !== ledger.tag) continue // an earlier workload's
    const sent = ledger.attempted.get(row.name)
    if (!sent) {
      if (!chained.has(Number(row.id))) fail(`row ${row.id} "${row.name}" was never sent`)
      continue
    }
    if (chained.has(Number(row.id))) continue
    if (!ledger.created.has(Number(row.id))) verdict.committedUnanswered++
    for (const column of ['webhook_uri_template', 'policy_jwt_audience', 'card_description', 'description'] as const) {
      if (row[column] !== sent[column]) fail(`row ${row.id} has ${column} ${JSON.stringify(row[column])}, sent ${JSON.stringify(sent[column])}`)
    }
    if (Number(row.service_instance_id) !== ledger.serviceInstanceId) fail(`row ${row.id} lost its service instance`)
  }
  for (const [reference, n] of references) if (n > 1) fail(`reference ${reference} is stored ${n} times`)
  return verdict
}

/** Equal as JSON values, whatever the key order. */
function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b))
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted)
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted((value as Record<string, unknown>)[k])]))
  }
  return value
}
