// node --import tsx bench/startup.ts [runs]: what it costs to start the command, as a user runs it
// (`node bin/app-offerings.js ...`, nothing preloaded). See docs/benchmarks.md, "Start-up".
//
// - serve: a fresh SQLite database per run; from spawn to the first answered `GET /v1`, the CPU
//   time (user + system) of the server process and of any process it started (from /proc, read
//   at that answer), its peak RSS (VmHWM) and the wall time.
// - migrate, tokens list: a CLI call to its end on the database the first serve run made, under
//   /usr/bin/time (wall, user + system of the process and its children, max RSS).
//
// Medians of `runs` (3) runs each.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const RUNS = Number(process.argv[2] ?? 3)
const BIN = 'bin/app-offerings.js'
const TICK_MS = 1000 / 100 // USER_HZ

interface Sample {
  wallMs: number
  cpuMs: number
  rssMb: number
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })
}

function stat(pid: number): { ppid: number; ticks: number } | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    // utime, stime, cutime, cstime (children already waited for)
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]) }
  } catch {
    return undefined
  }
}

/** CPU ticks of `root` and of every live process below it. */
function treeTicks(root: number): number {
  const parents = new Map<number, number>()
  const ticks = new Map<number, number>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const s = stat(Number(name))
    if (!s) continue
    parents.set(Number(name), s.ppid)
    ticks.set(Number(name), s.ticks)
  }
  let total = 0
  for (const [pid, t] of ticks) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parents.get(p)) {
      if (p === root) {
        total += t
        break
      }
    }
  }
  return total
}

function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB/m)
  return Number(line![1]) / 1024
}

async function serveOnce(databaseUrl: string): Promise<Sample> {
  const port = await freePort()
  const started = performance.now()
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}`)
      try {
        const res = await fetch(`http://127.0.0.1:${port}/v1`)
        await res.arrayBuffer()
        if (res.status === 200) break
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const wallMs = performance.now() - started
    return { wallMs, cpuMs: treeTicks(child.pid!) * TICK_MS, rssMb: peakRssMb(child.pid!) }
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
}

function cliOnce(databaseUrl: string, args: string[]): Sample {
  const run = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S %M', process.execPath, BIN, ...args], {
    env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
  })
  if (run.status !== 0) throw new Error(`${args.join(' ')} exited with ${run.status}: ${run.stderr}`)
  const [wall, user, system, rssKb] = run.stderr.match(/^TIME (.*)$/m)![1].split(' ').map(Number)
  return { wallMs: wall * 1000, cpuMs: (user + system) * 1000, rssMb: rssKb / 1024 }
}

function report(label: string, samples: Sample[]): void {
  const fmt = (pick: (s: Sample) => number, digits: number) => `${median(samples.map(pick)).toFixed(digits)} (${samples.map((s) => pick(s).toFixed(digits)).join(', ')})`
  process.stdout.write(`${label.padEnd(12)} cpu ms ${fmt((s) => s.cpuMs, 0)}  wall ms ${fmt((s) => s.wallMs, 0)}  max rss MB ${fmt((s) => s.rssMb, 0)}\n`)
}

const dir = mkdtempSync(join(tmpdir(), 'app-offerings-startup-'))
try {
  const serve: Sample[] = []
  for (let i = 0; i < RUNS; i++) serve.push(await serveOnce(`sqlite:${join(dir, `fresh-${i}.db`)}`))
  report('serve', serve)
  // The first serve run created the account `demo` on its database.
  const existing = `sqlite:${join(dir, 'fresh-0.db')}`
  const migrate: Sample[] = []
  for (let i = 0; i < RUNS; i++) migrate.push(cliOnce(existing, ['migrate']))
  report('migrate', migrate)
  const tokens: Sample[] = []
  for (let i = 0; i < RUNS; i++) tokens.push(cliOnce(existing, ['tokens', 'list', '--account', 'demo']))
  report('tokens list', tokens)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
