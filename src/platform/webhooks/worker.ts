// The delivery worker (lifecycle.md, "Webhook deliveries"; docs/architecture.md, "Webhooks"):
// claims due rows of the outbox, signs each with its webhook's policy, POSTs it, and records the
// attempt. It runs inside `serve` and alone as `app-offerings worker`; any number of them may
// share one database.
//
// - Claiming is one UPDATE ... RETURNING that leases rows (`status = 'sending'`, `lease_until`,
//   a token of this claim). On PostgreSQL the rows are chosen FOR UPDATE SKIP LOCKED, so two
//   workers never take one row; SQLite has one writer at a time. A lease outlives the timeout of
//   a send; a worker that dies leaves its rows to be claimed again when their lease ends.
// - Order per webhook: a row is due only when no earlier row of its webhook is still pending or
//   being sent, so event N+1 waits while N is retried.
// - A failure (no answer within WEBHOOK_TIMEOUT, a status outside 2xx, a refused address) is
//   retried after base * 2^(attempt - 1) with jitter, up to WEBHOOK_MAX_ATTEMPTS; after 20
//   deliveries in a row that failed for good the webhook is disabled (through RecordWriter).
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { CryptoKey } from 'jose'
import { sql, type Kysely } from 'kysely'
import type { Logger } from 'pino'
import type { Config } from '../../config.ts'
import type { Row } from '../../catalogue/resource.ts'
import { OUTBOX_TABLE, onOutboxEvents } from '../../records/outbox.ts'
import { RecordStore } from '../../records/store.ts'
import { RecordWriter } from '../../records/write.ts'
import { webhooks } from '../../resources/webhooks/fields.ts'
import { webhookRules } from '../../resources/webhooks/rules.ts'
import { KEYS_TABLE } from '../../resources/webhook-policies/rules.ts'
import type { Database } from '../../storage/database.ts'
import { nowSeconds } from '../../storage/database.ts'
import { openPrivateKey } from '../../storage/signing-keys.ts'
import { issuerOf, issuerTemplate, signDelivery, type SigningPolicy } from './sign.ts'
export { issuerTemplate } from './sign.ts'
import { Transport, type Outcome } from './transport.ts'

export const ATTEMPTS_TABLE = 'webhook_delivery_attempts'
/** Deliveries in a row that failed for good after which a webhook is disabled (lifecycle.md). */
export const FAILURES_TO_DISABLE = 20
/** The longest wait between two attempts. */
const MAX_BACKOFF_MS = 3_600_000
/** How long past its send timeout a lease lasts. */
const LEASE_MARGIN_MS = 5_000
const KEYS_KEPT = 1000

const VERSION: string = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version
export const USER_AGENT = `app-offerings/${VERSION}`

/** Who the worker's writes are by, in audit entries (the webhook it disables). */
const WORKER = { actor: { id: null, name: 'webhook deliveries' } }

/** The wait before attempt `attempt + 1`: base * 2^(attempt - 1), between half and all of it (jitter). */
export function backoffMs(baseMs: number, attempt: number, random: () => number = Math.random): number {
  const full = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.min(attempt - 1, 40))
  return Math.round(full / 2 + (random() * full) / 2)
}

export interface WorkerOptions {
  /** The `iss` template (issuerTemplate). */
  issuer: string
  secretKey: string
  nodeIdDomain: string
}

export class DeliveryWorker {
  private readonly db: Kysely<any>
  private readonly transport: Transport
  private readonly settings: Config['webhooks']
  private readonly sending = new Set<Promise<void>>()
  private readonly keys = new Map<string, CryptoKey>()
  private readonly webhookStore: RecordStore
  private readonly disabler: RecordWriter
  private timer: NodeJS.Timeout | undefined
  private unsubscribe: (() => void) | undefined
  private claiming = false
  private again = false
  private stopped = true

  constructor(
    private readonly database: Database,
    config: Config,
    private readonly logger: Logger,
    private readonly options: WorkerOptions,
  ) {
    this.db = database.db as unknown as Kysely<any>
    this.settings = config.webhooks
    this.transport = new Transport({ timeoutMs: this.settings.timeoutSeconds * 1000, allowPrivate: this.settings.allowPrivate })
    this.webhookStore = new RecordStore(database, webhooks)
    this.disabler = new RecordWriter(this.webhookStore, webhookRules, { secretKey: options.secretKey, nodeIdDomain: options.nodeIdDomain })
  }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.unsubscribe = onOutboxEvents(() => this.pump())
    this.timer = setInterval(() => this.pump(), this.settings.pollMs).unref()
    this.pump()
  }

  /** Claims no more; waits for the sends in flight (each bounded by WEBHOOK_TIMEOUT). */
  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    this.unsubscribe?.()
    while (this.claiming || this.sending.size > 0) await Promise.race([...this.sending, new Promise((resolve) => setTimeout(resolve, 20))])
    await this.transport.close()
  }

  /** Claims and starts what is due, as long as there is room; a call while claiming asks for one more round. */
  pump(): void {
    if (this.stopped) return
    if (this.claiming) {
      this.again = true
      return
    }
    this.claiming = true
    void this.claimRounds().finally(() => {
      this.claiming = false
    })
  }

  private async claimRounds(): Promise<void> {
    do {
      this.again = false
      const room = this.settings.concurrency - this.sending.size
      if (room <= 0 || this.stopped) return
      let rows: Row[]
      try {
        rows = await this.claim(room)
      } catch (error) {
        // The database is away: the next poll tries again.
        this.logger.warn({ err: error }, 'webhook deliveries: claiming failed')
        return
      }
      for (const row of rows) {
        const sent: Promise<void> = this.deliver(row)
          .catch((error) => this.logger.error({ err: error, delivery: row.uuid }, 'webhook deliveries: a delivery failed unexpectedly'))
          .finally(() => {
            this.sending.delete(sent)
            this.pump()
          })
        this.sending.add(sent)
      }
      // A full claim may have left due rows behind.
      if (rows.length === room) this.again = true
    } while (this.again && !this.stopped)
  }

  /** Leases up to `limit` due rows, oldest first, at most one per webhook. */
  private async claim(limit: number): Promise<Row[]> {
    const now = Date.now()
    const lease = now + this.settings.timeoutSeconds * 1000 + LEASE_MARGIN_MS
    let due = this.db
      .selectFrom(`${OUTBOX_TABLE} as d`)
      .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
      .leftJoin('webhook_policies as p', 'p.id', 'w.webhook_policy_id')
      .select('d.id')
      .where((eb) =>
        eb.or([
          eb.and([eb('d.status', '=', 'pending'), eb('d.next_attempt_at', '<=', now)]),
          // A lease whose worker died.
          eb.and([eb('d.status', '=', 'sending'), eb('d.lease_until', '<', now)]),
        ]),
      )
      .where('w.disabled', '=', 0)
      .where((eb) => eb.or([eb('p.id', 'is', null), eb('p.disabled', '=', 0)]))
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom(`${OUTBOX_TABLE} as e`)
              .select('e.id')
              .whereRef('e.webhook_id', '=', 'd.webhook_id')
              .whereRef('e.id', '<', 'd.id')
              .where('e.status', 'in', ['pending', 'sending']),
          ),
        ),
      )
      .orderBy('d.id')
      .limit(limit)
    if (this.database.engine === 'postgres') due = due.forUpdate('d').skipLocked()
    return this.db
      .updateTable(OUTBOX_TABLE)
      .set({ status: 'sending', lease_until: lease, lease_token: randomUUID(), attempts: sql`attempts + 1` })
      .where('id', 'in', due)
      .returning(['id', 'uuid', 'webhook_id', 'event', 'data', 'attempts', 'lease_token'])
      .execute()
  }

  private async deliver(row: Row): Promise<void> {
    const target = await this.target(Number(row.webhook_id))
    // Deleted since the claim: its deliveries went with it.
    if (!target) return
    const { webhook, policy, problem } = target
    if (problem) return this.finish(row, webhook, { durationMs: 0, error: problem })
    const stored = JSON.parse(String(row.data)) as Record<string, unknown>
    // The message in the order of lifecycle.md, `account` being the account's URL.
    const { webhook_id, webhook_nodeID, account_id, ...rest } = stored
    const data = { webhook_id, webhook_nodeID, account_id, account: issuerOf(this.options.issuer, String(account_id)), ...rest }
    const headers = { 'content-type': 'application/json; charset=utf-8', 'user-agent': USER_AGENT, 'x-4me-delivery': String(row.uuid) }
    let body: string
    try {
      // Without a policy the message goes unsigned, as the real service sends it.
      body = policy
        ? JSON.stringify({ jwt: await signDelivery(policy, { uuid: String(row.uuid), webhookId: Number(webhook.id), issuer: issuerOf(this.options.issuer, policy.issuerAccount), data }) })
        : JSON.stringify(data)
    } catch (error) {
      this.logger.error({ err: error, delivery: row.uuid }, 'webhook deliveries: could not sign')
      return this.finish(row, webhook, { durationMs: 0, error: 'could not sign the delivery' })
    }
    await this.finish(row, webhook, await this.transport.post(String(webhook.uri), body, headers))
  }

  /**
   * The webhook and what signs for it (its policy and the policy's newest key, opened once per
   * process), in one statement; undefined when the webhook is gone.
   */
  private async target(webhookId: number): Promise<{ webhook: Row; policy: (SigningPolicy & { issuerAccount: string }) | undefined; problem?: string } | undefined> {
    const found = await this.db
      .selectFrom('webhooks as w')
      .leftJoin('webhook_policies as p', 'p.id', 'w.webhook_policy_id')
      .leftJoin(`${KEYS_TABLE} as k`, (join) =>
        join.on((eb) => eb('k.id', '=', eb.selectFrom(`${KEYS_TABLE} as newest`).select((e) => e.fn.max('newest.id').as('id')).whereRef('newest.policy_id', '=', 'p.id'))),
      )
      .select(['w.id', 'w.account_id', 'w.uri', 'w.webhook_policy_id', 'p.jwt_audience', 'p.jwt_claim_expires_in', 'k.kid', 'k.alg', 'k.private_key', 'k.issuer_account'])
      .where('w.id', '=', webhookId)
      .executeTakeFirst()
    if (!found) return undefined
    if (found.webhook_policy_id == null) return { webhook: found, policy: undefined }
    const kid = String(found.kid)
    let key = this.keys.get(kid)
    if (!key) {
      try {
        // A policy without a key must not turn into an unsigned delivery; a key sealed under
        // another SECRET_KEY does not open.
        if (found.kid == null) throw new Error(`webhook policy ${found.webhook_policy_id} has no key`)
        key = await openPrivateKey(this.options.secretKey, kid, String(found.private_key), String(found.alg))
      } catch (error) {
        this.logger.error({ err: error, webhook: webhookId }, 'webhook deliveries: no key to sign with')
        return { webhook: found, policy: undefined, problem: 'no key to sign with (see the log)' }
      }
      if (this.keys.size >= KEYS_KEPT) this.keys.clear()
      this.keys.set(kid, key)
    }
    const policy = {
      kid,
      alg: String(found.alg),
      key,
      audience: found.jwt_audience ? String(found.jwt_audience) : undefined,
      expiresIn: found.jwt_claim_expires_in == null ? undefined : Number(found.jwt_claim_expires_in),
      issuerAccount: String(found.issuer_account),
    }
    return { webhook: found, policy }
  }

  /** Ends the attempt under this claim's lease: delivered, retried later, or failed for good; logs it. */
  private async finish(row: Row, webhook: Row, outcome: Outcome): Promise<void> {
    const attempt = Number(row.attempts)
    const ok = outcome.error === undefined
    const ended = ok || attempt >= this.settings.maxAttempts
    const status = ok ? 'delivered' : ended ? 'failed' : 'pending'
    const next = ended ? undefined : Date.now() + backoffMs(this.settings.retryBaseMs, attempt)
    const now = nowSeconds()
    const kept = await this.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable(OUTBOX_TABLE)
        .set({ status, lease_until: null, lease_token: null, ...(next !== undefined && { next_attempt_at: next }), ...(ended && { finished_at: now }) })
        .where('id', '=', Number(row.id))
        .where('lease_token', '=', String(row.lease_token))
        .returning('id')
        .executeTakeFirst()
      // The lease ran out and another worker has the row, or the webhook was deleted: not ours to log.
      if (!updated) return false
      await trx
        .insertInto(ATTEMPTS_TABLE)
        .values({
          account_id: String(webhook.account_id),
          webhook_id: Number(webhook.id),
          delivery_id: Number(row.id),
          delivery: String(row.uuid),
          event: String(row.event),
          attempt,
          status: ok ? 'delivered' : 'failed',
          response_code: outcome.status ?? 0,
          duration_ms: outcome.durationMs,
          error: (outcome.error ?? '').slice(0, 500),
          created_at: now,
        })
        .execute()
      return true
    })
    this.logger.debug({ delivery: row.uuid, webhook: Number(webhook.id), attempt, status, response: outcome.status, error: outcome.error }, 'webhook delivery attempt')
    if (kept && status === 'failed') await this.disableWhenFailing(webhook)
  }

  /** Disables the webhook when its last FAILURES_TO_DISABLE ended deliveries all failed. */
  private async disableWhenFailing(webhook: Row): Promise<void> {
    const last = await this.db
      .selectFrom(OUTBOX_TABLE)
      .select('status')
      .where('webhook_id', '=', Number(webhook.id))
      .where('status', 'in', ['delivered', 'failed'])
      // A webhook's deliveries end in the order they were made (one at a time).
      .orderBy('id', 'desc')
      .limit(FAILURES_TO_DISABLE)
      .execute()
    if (last.length < FAILURES_TO_DISABLE || last.some((d) => d.status !== 'failed')) return
    const account = { id: String(webhook.account_id), name: '' }
    const existing = await this.webhookStore.find(account.id, Number(webhook.id))
    if (!existing || Number(existing.disabled) === 1) return
    await this.disabler.update(account, existing, { disabled: true }, WORKER)
    this.logger.warn({ webhook: Number(webhook.id), account: account.id }, `webhook disabled after ${FAILURES_TO_DISABLE} failed deliveries in a row`)
  }
}

/** A started worker on this database; `apiBase` (the API's URL, …/v1) gives the default issuer's origin. */
export function startDeliveries(database: Database, config: Config, logger: Logger, secretKey: string, apiBase: string): DeliveryWorker {
  const worker = new DeliveryWorker(database, config, logger, { issuer: issuerTemplate(config, apiBase.replace(/\/v1$/, '')), secretKey, nodeIdDomain: config.nodeIdDomain })
  worker.start()
  return worker
}
