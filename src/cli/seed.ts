// Bulk-creates realistic draft offerings for demos and benchmarks: many rows per statement, many
// statements per transaction, straight into the tables (the API would cost a request each).
import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import { findAccount, markChanged } from '../storage/accounts.ts'
import { nowSeconds, type Database } from '../storage/database.ts'
import { JWT_ALGORITHMS } from '../resources/app-offerings/fields.ts'
import { parse, required, UsageError, withDatabase } from './args.ts'

const ADJECTIVES = ['Swift', 'Quiet', 'Bright', 'Secure', 'Smart', 'Lean', 'Agile', 'Open', 'Clear', 'Bold', 'Rapid', 'Calm']
const NOUNS = ['Note', 'Ticket', 'Asset', 'Change', 'Incident', 'Release', 'Survey', 'Invoice', 'Backup', 'Alert', 'Report', 'Sync']
const ROLES = ['Dispatcher', 'Bridge', 'Monitor', 'Connector', 'Assistant', 'Exporter', 'Router', 'Auditor', 'Gateway', 'Notifier']
const ROWS_PER_STATEMENT = 400
const ROWS_PER_TRANSACTION = 20_000
const YEAR = 365 * 24 * 3600

export interface SeedOptions {
  account: string
  offerings: number
  serviceInstance?: number
}

export async function seedCommand(args: string[]): Promise<number> {
  const { values } = parse(args, {
    account: { type: 'string' },
    offerings: { type: 'string' },
    'service-instance': { type: 'string' },
  })
  const account = required(values.account as string | undefined, '--account')
  const count = required(values.offerings as string | undefined, '--offerings')
  if (!/^\d+$/.test(count) || Number(count) < 1 || Number(count) > 10_000_000) throw new UsageError('--offerings must be 1 to 10,000,000')
  const si = values['service-instance'] as string | undefined
  if (si !== undefined && !/^\d+$/.test(si)) throw new UsageError('--service-instance must be an id')
  const started = Date.now()
  const created = await withDatabase((database) =>
    seed(database, { account, offerings: Number(count), serviceInstance: si === undefined ? undefined : Number(si) }),
  )
  process.stdout.write(`created ${created} offerings in account ${account} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
  return 0
}

export async function seed(database: Database, options: SeedOptions): Promise<number> {
  const db = database.db as Kysely<any>
  if (!(await findAccount(database, options.account))) throw new UsageError(`no account "${options.account}"`)
  const now = nowSeconds()
  let serviceInstance = options.serviceInstance
  if (serviceInstance === undefined) {
    const row = await db
      .insertInto('service_instances')
      .values({ account_id: options.account, name: 'Seeded services', status: 'in_production', source: 'seed', source_id: '', created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow()
    serviceInstance = Number(row.id)
  } else {
    const found = await db.selectFrom('service_instances').select('id').where('id', '=', serviceInstance).where('account_id', '=', options.account).executeTakeFirst()
    if (!found) throw new UsageError(`no service instance ${serviceInstance} in account ${options.account}`)
  }

  // A run tag keeps references unique across runs (they are unique across all accounts).
  const run = randomBytes(3).toString('hex')
  let done = 0
  while (done < options.offerings) {
    const inTransaction = Math.min(ROWS_PER_TRANSACTION, options.offerings - done)
    await db.transaction().execute(async (trx) => {
      for (let offset = 0; offset < inTransaction; offset += ROWS_PER_STATEMENT) {
        const rows = []
        for (let i = offset; i < Math.min(offset + ROWS_PER_STATEMENT, inTransaction); i++) {
          rows.push(offering(options.account, serviceInstance!, run, done + i, now))
        }
        await trx.insertInto('app_offerings').values(rows).execute()
      }
      await markChanged(trx, options.account)
    })
    done += inTransaction
  }
  return done
}

function offering(account: string, serviceInstance: number, run: string, n: number, now: number) {
  const name = `${ADJECTIVES[n % ADJECTIVES.length]} ${NOUNS[Math.floor(n / ADJECTIVES.length) % NOUNS.length]} ${ROLES[(n * 7) % ROLES.length]} ${n + 1}`
  const created = now - YEAR + Math.floor(((n * 2_654_435_761) % 1_000_003) / 1_000_003 * YEAR)
  const updated = n % 3 === 0 ? created : Math.min(now, created + (n % 86_400))
  return {
    account_id: account,
    reference: `${account}_seed_${run}_${n + 1}`,
    name,
    service_instance_id: serviceInstance,
    policy_jwt_alg: JWT_ALGORITHMS[n % JWT_ALGORITHMS.length],
    webhook_uri_template: `https://hooks.example.com/${run}/${n + 1}/{account}`,
    policy_jwt_audience: n % 4 === 0 ? '' : `app-${n % 97}`,
    policy_jwt_claim_expires_in: n % 5 === 0 ? null : 5 + (n % 120),
    card_description: `${name}: ${NOUNS[n % NOUNS.length].toLowerCase()} automation`,
    disabled: n % 10 === 0 ? 1 : 0,
    requires_enabled_oauth_person: n % 7 === 0 ? 1 : 0,
    source: 'seed',
    source_id: n % 2 === 0 ? `ext-${run}-${n + 1}` : '',
    created_at: created,
    updated_at: updated,
  }
}
