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

/**
 * Redis while it answers, this process's memory while it does not: the server keeps serving
 * (with per-process limits) through a Redis outage and shares its counters again once Redis is back.
 */
export class SharedCounters implements Counters {
  private readonly local = new MemoryCounters()
  private shared: boolean
  private closing = false

  constructor(
    private readonly redis: RedisCounters,
    private readonly log: Logger,
  ) {
    this.shared = redis.ready()
    redis.onReady(() => {
      if (!this.shared) log.info('redis reachable: rate limits are shared again')
      this.shared = true
    })
    redis.onLost((error) => this.lost(error))
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
    if (this.shared && !this.closing) this.log.warn({ err: error }, 'redis unavailable: rate limits are per process until it is back')
    this.shared = false
  }

  state(): CountersState {
    return this.shared ? 'redis' : 'redis unavailable: per-process limits'
  }

  async close(): Promise<void> {
    this.closing = true
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
