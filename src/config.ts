// Environment -> validated, typed configuration. A wrong value stops the process with one line
// that names the variable (ConfigError), before anything listens or touches the database.
import { isIP } from 'node:net'

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`)
    this.name = 'ConfigError'
  }
}

export interface Config {
  databaseUrl: string
  port: number
  host: string
  publicUrl: URL | undefined
  /**
   * Whose X-Forwarded-* headers count: nobody (false), every peer (true: only safe when clients
   * cannot reach the port directly), or the proxies at these addresses and CIDR ranges.
   */
  trustProxy: boolean | string[]
  nodeIdDomain: string
  secretKey: string | undefined
  logLevel: string
  bodyLimit: number
  paginationCountCap: number
  /** Records offset paging may skip (page=N); deeper pages are a 400 that points to cursors. */
  paginationMaxOffset: number
  /** Bytes of collection answers and counts kept per resource and process (0: none), see records/reuse.ts. */
  resultCacheBytes: number
  /** How many times a URL is asked (as far as recent memory goes) before its answer is kept: 2 skips URLs asked once. */
  resultCacheAfter: number
  rateLimit: {
    enabled: boolean
    burst: number
    burstSeconds: number
    hourly: number
    hourlySeconds: number
  }
  redisUrl: string | undefined
  /** Prefix of every Redis key, so that deployments (and tests) can share one Redis. */
  redisKeyPrefix: string
  corsOrigins: string[]
  workers: number
  /** Longest a request may take, headers and body included. */
  requestTimeoutSeconds: number
  /** How long a shutdown waits for requests in flight before it closes their connections. */
  shutdownTimeoutSeconds: number
  /** Longest a large answer may take to be read by its client before it is abandoned (src/http/send-timeout.ts). */
  sendTimeoutSeconds: number
  webhooks: {
    /** The `iss` of deliveries with `{account}`; undefined: `<PUBLIC_URL or the server's URL>/accounts/{account}`. */
    issuer: string | undefined
    /** Deliver to loopback, private and link-local addresses too (tests, local development). */
    allowPrivate: boolean
    timeoutSeconds: number
    maxAttempts: number
    /** The first retry's delay; each next one doubles (with jitter). */
    retryBaseMs: number
    /** How often a worker looks for due deliveries written by other processes. */
    pollMs: number
    /** Deliveries one worker sends at once. */
    concurrency: number
    /** Whether `serve` runs a delivery worker in its process (`app-offerings worker` runs one alone). */
    inServer: boolean
  }
  attachments: AttachmentConfig
}

/** Uploaded files (attachments.md; docs/architecture.md, "Attachments"). */
export interface AttachmentConfig {
  /** Where new uploads go: a folder, or chunked rows of the database. */
  storage: 'local' | 'database'
  /** The folder of `local` storage. */
  dir: string
  /** The largest upload, in bytes. */
  sizeLimit: number
  /** Lower-case extensions an upload may have. */
  extensions: string[]
  /** Seconds between two runs of the sweeper of unreferenced uploads (0: it does not run). */
  sweepIntervalSeconds: number
}

/** Documents, images and archives: what an offering's texts plausibly carry; nothing a browser or an OS runs. */
export const DEFAULT_EXTENSIONS = [
  'pdf', 'txt', 'csv', 'md', 'rtf', 'doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'odt', 'ods', 'odp',
  'png', 'jpg', 'jpeg', 'gif', 'webp', 'svg', 'bmp', 'tif', 'tiff', 'mp4', 'webm', 'mov', 'mp3', 'wav',
  'zip', 'gz', 'tgz', '7z', 'json', 'xml', 'yaml', 'yml', 'log',
]

type Env = Record<string, string | undefined>

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export function loadConfig(env: Env = process.env): Config {
  const publicUrl = optional(env, 'PUBLIC_URL', parsePublicUrl)
  const workers = integer(env, 'WORKERS', 1, 1, 256)
  const databaseUrl = optional(env, 'DATABASE_URL', parseDatabaseUrl) ?? 'sqlite:data/app-offerings.db'
  const redisUrl = optional(env, 'REDIS_URL', parseRedisUrl)
  // Several processes share one database and one set of rate-limit counters, or none at all.
  if (workers > 1 && !databaseUrl.startsWith('postgres')) throw new ConfigError('WORKERS', 'more than one worker needs PostgreSQL (DATABASE_URL=postgres://...)')
  if (workers > 1 && !redisUrl) throw new ConfigError('WORKERS', 'more than one worker needs REDIS_URL, so that they share one rate limit')
  return {
    databaseUrl,
    port: integer(env, 'PORT', 3000, 0, 65535),
    host: optional(env, 'HOST', (v) => v) ?? '127.0.0.1',
    publicUrl,
    trustProxy: optional(env, 'TRUST_PROXY', parseTrustProxy) ?? false,
    nodeIdDomain: optional(env, 'NODE_ID_DOMAIN', parseDomain) ?? publicUrl?.hostname ?? 'localhost',
    secretKey: optional(env, 'SECRET_KEY', (v) => {
      if (v.length < 32) throw new Error('must be at least 32 characters')
      return v
    }),
    logLevel: optional(env, 'LOG_LEVEL', (v) => {
      if (!LOG_LEVELS.includes(v)) throw new Error(`must be one of ${LOG_LEVELS.join(', ')}`)
      return v
    }) ?? 'info',
    bodyLimit: optional(env, 'BODY_LIMIT', parseByteSize) ?? 8 * 1024 * 1024,
    paginationCountCap: integer(env, 'PAGINATION_COUNT_CAP', 100_000, 1, 1_000_000_000),
    paginationMaxOffset: integer(env, 'PAGINATION_MAX_OFFSET', 10_000, 0, 1_000_000_000),
    resultCacheBytes: optional(env, 'RESULT_CACHE_BYTES', (v) => (/^0+$/.test(v) ? 0 : parseByteSize(v))) ?? 32 * 1024 * 1024,
    resultCacheAfter: integer(env, 'RESULT_CACHE_AFTER', 2, 1, 2),
    rateLimit: {
      enabled: optional(env, 'RATE_LIMIT', (v) => {
        if (v === 'off') return false
        if (v === 'on') return true
        throw new Error('must be "on" or "off"')
      }) ?? true,
      burst: integer(env, 'RATE_LIMIT_BURST', 20, 1, 1_000_000),
      burstSeconds: integer(env, 'RATE_LIMIT_BURST_SECONDS', 2, 1, 86_400),
      hourly: integer(env, 'RATE_LIMIT_HOURLY', 3600, 1, 100_000_000),
      hourlySeconds: integer(env, 'RATE_LIMIT_HOURLY_SECONDS', 3600, 1, 86_400),
    },
    redisUrl,
    redisKeyPrefix: optional(env, 'REDIS_KEY_PREFIX', (v) => {
      if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(v)) throw new Error('must be 1 to 64 letters, digits or ":_.-"')
      return v
    }) ?? 'app-offerings:',
    corsOrigins: optional(env, 'CORS_ORIGINS', parseOrigins) ?? [],
    workers,
    requestTimeoutSeconds: integer(env, 'REQUEST_TIMEOUT', 30, 1, 3600),
    shutdownTimeoutSeconds: integer(env, 'SHUTDOWN_TIMEOUT', 10, 0, 3600),
    sendTimeoutSeconds: integer(env, 'SEND_TIMEOUT', 30, 1, 3600),
    webhooks: {
      issuer: optional(env, 'WEBHOOK_ISSUER', parseIssuer),
      allowPrivate: flag(env, 'WEBHOOK_ALLOW_PRIVATE', false),
      timeoutSeconds: integer(env, 'WEBHOOK_TIMEOUT', 10, 1, 300),
      maxAttempts: integer(env, 'WEBHOOK_MAX_ATTEMPTS', 10, 1, 100),
      retryBaseMs: integer(env, 'WEBHOOK_RETRY_BASE_MS', 10_000, 1, 3_600_000),
      pollMs: integer(env, 'WEBHOOK_POLL_MS', 1000, 10, 600_000),
      concurrency: integer(env, 'WEBHOOK_CONCURRENCY', 8, 1, 256),
      inServer: flag(env, 'WEBHOOK_WORKER', true),
    },
    attachments: {
      storage: optional(env, 'ATTACHMENT_STORAGE', (v) => {
        if (v !== 'local' && v !== 'database') throw new Error('must be "local" or "database"')
        return v
      }) ?? 'local',
      dir: optional(env, 'ATTACHMENT_DIR', (v) => v) ?? 'data/attachments',
      sizeLimit: optional(env, 'ATTACHMENT_SIZE_LIMIT', parseByteSize) ?? 100 * 1024 * 1024,
      extensions: optional(env, 'ATTACHMENT_EXTENSIONS', parseExtensions) ?? DEFAULT_EXTENSIONS,
      sweepIntervalSeconds: integer(env, 'ATTACHMENT_SWEEP_INTERVAL', 3600, 0, 86_400),
    },
  }
}

/** An http(s) URL template; `{account}` may stand anywhere, the host included. */
function parseIssuer(value: string): string {
  let url: URL
  try {
    url = new URL(value.replaceAll('{account}', 'account'))
  } catch {
    throw new Error(`must be an http(s) URL, with {account} where the account goes, got "${value}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`must be an http(s) URL, got "${value}"`)
  return value.replace(/\/+$/, '')
}

function parseExtensions(value: string): string[] {
  const list = value.split(',').map((item) => item.trim().replace(/^\./, '').toLowerCase())
  for (const extension of list) {
    if (!/^[a-z0-9]{1,16}$/.test(extension)) throw new Error(`must be a comma-separated list of file extensions such as pdf,png, got "${extension}"`)
  }
  return [...new Set(list)]
}

function optional<T>(env: Env, name: string, parse: (value: string) => T): T | undefined {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return undefined
  try {
    return parse(raw.trim())
  } catch (error) {
    throw new ConfigError(name, (error as Error).message)
  }
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  return optional(env, name, (v) => {
    if (!/^\d+$/.test(v)) throw new Error(`must be a whole number, got "${v}"`)
    const n = Number(v)
    if (n < min || n > max) throw new Error(`must be between ${min} and ${max}, got ${n}`)
    return n
  }) ?? fallback
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  return optional(env, name, (v) => {
    if (/^(1|true|yes|on)$/i.test(v)) return true
    if (/^(0|false|no|off)$/i.test(v)) return false
    throw new Error(`must be true or false, got "${v}"`)
  }) ?? fallback
}

// The names proxy-addr (Fastify's trustProxy) knows besides addresses and CIDR ranges.
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal'])

/** true/false, or a comma-separated list of proxy addresses, CIDR ranges and proxy-addr's range names. */
function parseTrustProxy(value: string): boolean | string[] {
  if (/^(1|true|yes|on)$/i.test(value)) return true
  if (/^(0|false|no|off)$/i.test(value)) return false
  return value.split(',').map((item) => {
    const entry = item.trim()
    if (PROXY_RANGES.has(entry)) return entry
    const [address, prefix, extra] = entry.split('/')
    const family = isIP(address)
    const bits = family === 4 ? 32 : 128
    if (family === 0 || extra !== undefined || (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits))) {
      throw new Error(`must be true, false, or a comma-separated list of proxy addresses or CIDR ranges, got "${entry}"`)
    }
    return entry
  })
}

function parsePublicUrl(value: string): URL {
  const url = new URL(value)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('must be an http(s) URL')
  if (url.search || url.hash) throw new Error('must not have a query or fragment')
  url.pathname = url.pathname.replace(/\/+$/, '')
  return url
}

function parseDatabaseUrl(value: string): string {
  if (value.startsWith('sqlite:')) {
    if (value.length === 'sqlite:'.length) throw new Error('sqlite: needs a file path, e.g. sqlite:data/app-offerings.db')
    return value
  }
  if (/^postgres(ql)?:\/\//.test(value)) {
    new URL(value)
    return value
  }
  throw new Error('must start with sqlite: or postgres://')
}

function parseRedisUrl(value: string): string {
  if (!/^rediss?:\/\//.test(value)) throw new Error('must start with redis:// or rediss://')
  new URL(value)
  return value
}

function parseDomain(value: string): string {
  if (!/^[A-Za-z0-9.-]{1,253}$/.test(value)) throw new Error('must be a host name')
  return value
}

function parseOrigins(value: string): string[] {
  return value.split(',').map((origin) => {
    const trimmed = origin.trim()
    if (trimmed === '*') return trimmed
    const url = new URL(trimmed)
    if (url.origin !== trimmed.replace(/\/$/, '')) throw new Error(`"${trimmed}" is not an origin`)
    return url.origin
  })
}

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }

export function parseByteSize(value: string): number {
  const match = /^(\d+)\s*(b|kb|mb|gb)?$/i.exec(value)
  if (!match) throw new Error(`must be a size such as 8mb or 1048576, got "${value}"`)
  const bytes = Number(match[1]) * UNITS[(match[2] ?? '').toLowerCase()]
  if (bytes < 1024 || bytes > 1024 ** 3) throw new Error('must be between 1kb and 1gb')
  return bytes
}
