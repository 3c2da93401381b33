// The long version of test/reliability: rounds of concurrent writes against real server processes
// on loopback, each round hit by a fault, each round checked record by record. Bounded by the
// number of rounds and by --max-seconds, whichever comes first.
//
//   node --import tsx scripts/soak.ts --engine sqlite --fault sigkill --rounds 20
//   TEST_DATABASE_URL=postgres://... node --import tsx scripts/soak.ts --engine postgres --fault terminate
//
// Faults: sigkill (the server is killed and restarted on the same database), terminate (the
// server's PostgreSQL connections are killed with pg_terminate_backend), none.
import { parseArgs } from 'node:util'
import pg from 'pg'
import { Client, provision, spawnServer, withApplicationName, type ServerProcess } from '../test/support/server-process.ts'
import { freshStore } from '../test/support/stores.ts'
import { runWorkload, setUp, verify } from '../test/support/workload.ts'

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'sqlite' },
    fault: { type: 'string', default: 'sigkill' },
    rounds: { type: 'string', default: '10' },
    creates: { type: 'string', default: '500' },
    chains: { type: 'string', default: '40' },
    'chain-length': { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    'max-seconds': { type: 'string', default: '600' },
  },
})
const engine = values.engine as 'sqlite' | 'postgres'
const fault = values.fault!
if (!['sqlite', 'postgres'].includes(engine)) throw new Error('--engine sqlite|postgres')
if (!['sigkill', 'terminate', 'none'].includes(fault)) throw new Error('--fault sigkill|terminate|none')
if (fault === 'terminate' && engine !== 'postgres') throw new Error('--fault terminate needs --engine postgres')
if (engine === 'postgres' && !process.env.TEST_DATABASE_URL) throw new Error('--engine postgres needs TEST_DATABASE_URL')
const rounds = Number(values.rounds)
const creates = Number(values.creates)
const chains = Number(values.chains)
const chainLength = Number(values['chain-length'])
const deadline = Date.now() + Number(values['max-seconds']) * 1000

const store = await freshStore(engine)
const [tenant] = await provision(store, 1)
const applicationName = `ao-soak-${process.pid}`
const url = engine === 'postgres' ? withApplicationName(store.url, applicationName) : store.url
const admin = fault === 'terminate' ? new pg.Client({ connectionString: process.env.TEST_DATABASE_URL }) : undefined
await admin?.connect()

const totals = { rounds: 0, sent: 0, acknowledged: 0, faults: 0, refused: 0, checked: 0, committedUnanswered: 0, lost: 0 }
let server: ServerProcess = await spawnServer(url)
let client = new Client(server.origin, tenant.token, Number(values.connections))
const started = Date.now()
try {
  const serviceInstanceId = await setUp(client)
  for (let round = 1; round <= rounds && Date.now() < deadline; round++) {
    const current = server
    const ledger = await runWorkload(client, serviceInstanceId, {
      creates,
      chains,
      chainLength,
      tag: `r${round}`,
      tolerated: [503],
      retryChains: fault === 'terminate',
      fault:
        fault === 'none'
          ? undefined
          : {
              // Somewhere in the middle, a different place every round.
              after: Math.floor((creates + chains * chainLength) * (0.2 + 0.6 * Math.random())),
              inject: async () => {
                totals.faults++
                if (fault === 'sigkill') await current.kill()
                else await admin!.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [applicationName])
              },
            },
    })
    if (fault === 'sigkill') {
      await client.close()
      server = await spawnServer(url)
      client = new Client(server.origin, tenant.token, Number(values.connections))
    }
    const database = store.open()
    const verdict = await verify(client, database, ledger).finally(() => database.close())
    totals.rounds++
    totals.sent += ledger.sent
    totals.acknowledged += ledger.acknowledged
    totals.refused += ledger.sent - ledger.acknowledged
    totals.checked += verdict.checked
    totals.committedUnanswered += verdict.committedUnanswered
    totals.lost += verdict.lost
    for (const problem of verdict.problems) console.error(`round ${round}: ${problem}`)
    console.error(`round ${round}: sent ${ledger.sent}, acknowledged ${ledger.acknowledged}, checked ${verdict.checked}, lost ${verdict.lost}, problems ${verdict.problems.length}`)
  }
} finally {
  await client.close()
  await server.kill()
  await admin?.end()
  await store.drop()
}
console.log(JSON.stringify({ engine, fault, seconds: Math.round((Date.now() - started) / 1000), ...totals }))
process.exitCode = totals.lost > 0 ? 1 : 0
