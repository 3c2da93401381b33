// Bulk-creates realistic draft offerings for demos and benchmarks, through the records core's one
// write path (catalogue, rules, references, audit entries), many rows per statement.
import { randomBytes } from 'node:crypto'
import { findAccount } from '../storage/accounts.ts'
import { nowSeconds, type Database } from '../storage/database.ts'
import { RecordStore } from '../records/store.ts'
import { RecordWriter, type ImportedRecord } from '../records/write.ts'
import type { WriteContext } from '../records/rules.ts'
import { JWT_ALGORITHMS, appOfferings } from '../resources/app-offerings/fields.ts'
import { appOfferingRules } from '../resources/app-offerings/rules.ts'
import { serviceInstances } from '../resources/service-instances/fields.ts'
import { serviceInstanceRules } from '../resources/service-instances/rules.ts'
import { parse, required, UsageError, withDatabase } from './args.ts'

const ADJECTIVES = ['Swift', 'Quiet', 'Bright', 'Secure', 'Smart', 'Lean', 'Agile', 'Open', 'Clear', 'Bold', 'Rapid', 'Calm']
const NOUNS = ['Note', 'Ticket', 'Asset', 'Change', 'Incident', 'Release', 'Survey', 'Invoice', 'Backup', 'Alert', 'Report', 'Sync']
const ROLES = ['Dispatcher', 'Bridge', 'Monitor', 'Connector', 'Assistant', 'Exporter', 'Router', 'Auditor', 'Gateway', 'Notifier']
const YEAR = 365 * 24 * 3600

export interface SeedOptions {
  account: string
  offerings: number
  serviceInstance?: number
  /** Called after each transaction with the number written so far. */
  progress?: (done: number) => void
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
  const total = Number(count)
  // Progress on stderr for long runs, so stdout stays the one result line.
  const progress = total >= 50_000 && process.stderr.isTTY ? (done: number) => process.stderr.write(`\r${done.toLocaleString('en')} of ${total.toLocaleString('en')}`) : undefined
  const created = await withDatabase((database) => seed(database, { account, offerings: total, serviceInstance: si === undefined ? undefined : Number(si), progress }))
  if (progress) process.stderr.write('\n')
  process.stdout.write(`created ${created} ${created === 1 ? 'offering' : 'offerings'} in account ${account} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
  return 0
}

export async function seed(database: Database, options: SeedOptions): Promise<number> {
  const account = await findAccount(database, options.account)
  if (!account) throw new UsageError(`no account "${options.account}"`)
  const context: WriteContext = { actor: { id: null, name: 'seed' }, source: 'seed' }
  let serviceInstance = options.serviceInstance
  const instances = new RecordStore(database, serviceInstances)
  if (serviceInstance === undefined) {
    const row = await new RecordWriter(instances, serviceInstanceRules).create(account, { name: 'Seeded services', status: 'in_production' }, context)
    serviceInstance = Number(row.id)
  } else if (!(await instances.find(account.id, serviceInstance))) {
    throw new UsageError(`no service instance ${serviceInstance} in account ${account.id}`)
  }
  // A run tag keeps references unique across runs (they are unique across all accounts).
  const run = randomBytes(3).toString('hex')
  const now = nowSeconds()
  function* offerings(): Generator<ImportedRecord> {
    for (let n = 0; n < options.offerings; n++) yield offering(account!.id, serviceInstance!, run, n, now)
  }
  const created = await new RecordWriter(new RecordStore(database, appOfferings), appOfferingRules).createMany(account, offerings(), context, options.progress)
  database.optimize()
  return created
}

function offering(account: string, serviceInstance: number, run: string, n: number, now: number): ImportedRecord {
  const name = `${ADJECTIVES[n % ADJECTIVES.length]} ${NOUNS[Math.floor(n / ADJECTIVES.length) % NOUNS.length]} ${ROLES[(n * 7) % ROLES.length]} ${n + 1}`
  const createdAt = now - YEAR + Math.floor(((n * 2_654_435_761) % 1_000_003) / 1_000_003 * YEAR)
  return {
    createdAt,
    updatedAt: n % 3 === 0 ? createdAt : Math.min(now, createdAt + (n % 86_400)),
    body: {
      reference: `${account}_seed_${run}_${n + 1}`,
      name,
      service_instance_id: serviceInstance,
      policy_jwt_alg: JWT_ALGORITHMS[n % JWT_ALGORITHMS.length],
      webhook_uri_template: `https://hooks.example.com/${run}/${n + 1}/{account}`,
      policy_jwt_audience: n % 4 === 0 ? null : `app-${n % 97}`,
      policy_jwt_claim_expires_in: n % 5 === 0 ? null : 5 + (n % 120),
      card_description: `${name}: ${NOUNS[n % NOUNS.length].toLowerCase()} automation`,
      disabled: n % 10 === 0,
      requires_enabled_oauth_person: n % 7 === 0,
      sourceID: n % 2 === 0 ? `ext-${run}-${n + 1}` : null,
    },
  }
}
