// Rate-limit counters in Redis, shared by every process of a deployment. One Lua script counts
// all windows of a key atomically, so two processes never both see the last free request.
import { Redis } from 'ioredis'
import type { Counters, CountersState, Tally } from './counters.ts'

// KEYS: one per window. ARGV: the windows' lengths in ms, then '1' to count or '0' to look.
// Returns count and milliseconds left, per window.
const COUNT_WINDOWS = `
local out = {}
local counting = ARGV[#KEYS + 1] == '1'
for i, key in ipairs(KEYS) do
  local n
  if counting then
    n = redis.call('INCR', key)
  else
    n = tonumber(redis.call('GET', key) or '0')
  end
  local left = redis.call('PTTL', key)
  if left < 0 then
    left = tonumber(ARGV[i])
    if counting then redis.call('PEXPIRE', key, left) end
  end
  out[#out + 1] = n
  out[#out + 1] = left
end
return out
`

declare module 'ioredis' {
  interface RedisCommander {
    countWindows(numKeys: number, ...keysAndArgs: string[]): Promise<number[]>
  }
}

const CONNECT_WAIT_MS = 2000

export class RedisCounters implements Counters {
  private readonly client: Redis

  constructor(
    url: string,
    private readonly prefix: string,
  ) {
    this.client = new Redis(url, {
      // While Redis is away a command fails at once (the caller falls back) instead of queueing.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 1000,
      connectTimeout: CONNECT_WAIT_MS,
      retryStrategy: (attempt) => Math.min(200 * attempt, 2000),
    })
    this.client.defineCommand('countWindows', { lua: COUNT_WINDOWS })
    // Connection trouble is reported through onLost; the client reconnects by itself.
    this.client.on('error', () => {})
  }

  /** Resolves once the first connection attempt has succeeded or failed. */
  connected(): Promise<void> {
    if (this.client.status === 'ready') return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.client.off('ready', done).off('error', done)
        resolve()
      }
      const timer = setTimeout(done, CONNECT_WAIT_MS)
      this.client.once('ready', done).once('error', done)
    })
  }

  ready(): boolean {
    return this.client.status === 'ready'
  }

  onReady(listener: () => void): void {
    this.client.on('ready', listener)
  }

  onLost(listener: (error: Error) => void): void {
    this.client.on('close', () => listener(new Error('connection to redis closed')))
  }

  /** Resolves when Redis answers a PING (within the command timeout), rejects otherwise. */
  async ping(): Promise<void> {
    await this.client.ping()
  }

  /**
   * Drops the connection and opens a new one: a connection that stopped answering without being
   * closed (a frozen server, a silent network partition) is never noticed by the client itself.
   */
  reconnect(): void {
    if (this.client.status === 'ready') this.client.disconnect(true)
  }

  hit(key: string, windows: number[]): Promise<Tally[]> {
    return this.run(key, windows, true)
  }

  peek(key: string, windows: number[]): Promise<Tally[]> {
    return this.run(key, windows, false)
  }

  private async run(key: string, windows: number[], counting: boolean): Promise<Tally[]> {
    const keys = windows.map((seconds) => `${this.prefix}${key}:${seconds}`)
    const lengths = windows.map((seconds) => String(seconds * 1000))
    const reply = await this.client.countWindows(keys.length, ...keys, ...lengths, counting ? '1' : '0')
    const now = Date.now()
    return windows.map((_, i) => ({ count: Number(reply[2 * i]), resetAt: now + Number(reply[2 * i + 1]) }))
  }

  state(): CountersState {
    return this.ready() ? 'redis' : 'redis unavailable: per-process limits'
  }

  async close(): Promise<void> {
    this.client.disconnect()
  }
}
