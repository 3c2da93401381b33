// Windowed counters behind the rate limits: in memory for one process, in Redis for several.
// A window starts at its first hit and lasts its length; every hit in it adds one.
import type { Logger } from 'pino'
import type { Config } from '../config.ts'
import { RedisCounters } from './redis-counters.ts'

export interface Tally {
  count: number
  /** When the window ends, epoch milliseconds. */
  resetAt: number
}

/** Where the counters live right now, as /readyz reports it. */
export type CountersState = 'memory' | 'redis' | 'redis unavailable: per-process limits'

export interface Counters {
  /** Adds one to `key` in each window (lengths in seconds) and returns the tallies, in order. */
  hit(key: string, windows: number[]): Promise<Tally[]>
  /** The tallies without counting. */
  peek(key: string, windows: number[]): Promise<Tally[]>
  state(): CountersState
  close(): Promise<void>
}

const SWEEP_MS = 60_000

export class MemoryCounters implements Counters {
  private readonly tallies = new Map<string, Tally>()
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_MS).unref()

  async hit(key: string, windows: number[]): Promise<Tally[]> {
    return windows.map((seconds) => {
      const tally = this.current(key, seconds)
      tally.count += 1
      this.tallies.set(`${key}:${seconds}`, tally)
      return { ...tally }
    })
  }

  async peek(key: string, windows: number[]): Promise<Tally[]> {
    return windows.map((seconds) => ({ ...this.current(key, seconds) }))
  }

  private current(key: string, seconds: number): Tally {
    const now = Date.now()
    const tally = this.tallies.get(`${key}:${seconds}`)
    return tally && tally.resetAt > now ? tally : { count: 0, resetAt: now + seconds * 1000 }
  }

  private sweep(): void {
    const now = Date.now()
    for (const [key, tally] of this.tallies) if (tally.resetAt <= now) this.tallies.delete(key)
  }

  state(): CountersState {
    return 'memory'
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper)
  }
}

/** How often a stalled Redis is asked whether it answers again. */
export const PROBE_MS = 1000
/** Unanswered probes after which the connection is dropped and opened anew. */
const PROBES_BEFORE_RECONNECT = 3

/**
 * Redis while it answers, this process's memory while it does not: the server keeps serving
 * (with per-process limits) through a Redis outage and shares its counters again once Redis is back.
 * An outage is either a closed connection (the client reconnects and says `ready`) or a stall: a
 * connection that stays open while commands time out. A stall is recovered from like a disconnect:
 * while counting is per process a PING is sent every PROBE_MS; the first one answered makes the
 * counters shared again, and after PROBES_BEFORE_RECONNECT unanswered ones the connection is
 * dropped and opened anew.
 */
export class SharedCounters implements Counters {
  private readonly local = new MemoryCounters()
  private shared: boolean
  private closing = false
  private probe: NodeJS.Timeout | undefined
  private unanswered = 0
  private pinging = false

  constructor(
    private readonly redis: RedisCounters,
    private readonly log: Logger,
  ) {
    this.shared = redis.ready()
    redis.onReady(() => this.back('ready'))
    redis.onLost((error) => this.lost(error))
    if (!this.shared) this.startProbing()
  }

  hit(key: string, windows: number[]): Promise<Tally[]> {
    return this.either((store) => store.hit(key, windows))
  }

  peek(key: string, windows: number[]): Promise<Tally[]> {
    return this.either((store) => store.peek(key, windows))
  }

  private async either(use: (store: Counters) => Promise<Tally[]>): Promise<Tally[]> {
    if (this.shared) {
      try {
        return await use(this.redis)
      } catch (error) {
        this.lost(error as Error)
      }
    }
    return use(this.local)
  }

  private lost(error: Error): void {
    if (this.closing) return
    if (this.shared) this.log.warn({ err: error }, 'redis unavailable: rate limits are per process until it is back')
    this.shared = false
    this.startProbing()
  }

  private back(how: string): void {
    this.stopProbing()
    if (this.closing || this.shared) return
    this.log.info({ how }, 'redis reachable: rate limits are shared again')
    this.shared = true
  }

  private startProbing(): void {
    if (this.probe || this.closing) return
    this.unanswered = 0
    this.probe = setInterval(() => void this.ping(), PROBE_MS).unref()
  }

  private stopProbing(): void {
    clearInterval(this.probe)
    this.probe = undefined
  }

  private async ping(): Promise<void> {
    if (this.shared || this.closing) return this.stopProbing()
    // While the client is disconnected it reconnects by itself and says `ready`.
    if (!this.redis.ready() || this.pinging) return
    this.pinging = true
    try {
      await this.redis.ping()
      this.back('ping answered')
    } catch {
      this.unanswered += 1
      if (this.unanswered >= PROBES_BEFORE_RECONNECT) {
        this.unanswered = 0
        this.log.warn('redis does not answer on an open connection: reconnecting')
        this.redis.reconnect()
      }
    } finally {
      this.pinging = false
    }
  }

  state(): CountersState {
    return this.shared ? 'redis' : 'redis unavailable: per-process limits'
  }

  async close(): Promise<void> {
    this.closing = true
    this.stopProbing()
    await Promise.all([this.redis.close(), this.local.close()])
  }
}

/** The counters a server's configuration asks for; with Redis, waits briefly for it to answer. */
export async function openCounters(config: Config, log: Logger): Promise<Counters> {
  if (!config.redisUrl) return new MemoryCounters()
  const redis = new RedisCounters(config.redisUrl, config.redisKeyPrefix)
  await redis.connected()
  const counters = new SharedCounters(redis, log)
  if (counters.state() !== 'redis') log.warn({ redis: redactUrl(config.redisUrl) }, 'redis unavailable at start: rate limits are per process until it is up')
  return counters
}

function redactUrl(url: string): string {
  const parsed = new URL(url)
  if (parsed.password) parsed.password = '***'
  return parsed.href
}
