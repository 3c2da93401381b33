// What every plugin may use, decorated on the Fastify instance once by app.ts.
import type {} from '@fastify/swagger'
import type { Config } from '../config.ts'
import type { Database } from '../storage/database.ts'
import type { Account } from '../storage/accounts.ts'
import type { Scope } from '../storage/tokens.ts'
import type { Counters } from '../platform/counters.ts'
import type { StorageHealth } from '../platform/faults.ts'
import type { Uploads } from '../records/uploads.ts'

export interface Services {
  config: Config
  database: Database
  /** Signs cursors; shared by every process of a deployment. */
  secretKey: string
}

export interface Auth {
  tokenId: number
  scope: Scope
  account: Account
  /** The person the token belongs to (conventions.md §1): audit entries name it as `created_by`. */
  person: { id: number; name: string }
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services
    /** Rate-limit counters (see http/rate-limit.ts). */
    counters: Counters
    /** Whether writes fail for a storage fault (see platform/faults.ts, http/error-handler.ts). */
    storageHealth: StorageHealth
    /** Uploaded files and their store (records/uploads.ts). */
    uploads: Uploads
  }
  interface FastifyRequest {
    auth: Auth
  }
  interface FastifyContextConfig {
    /** Answered without a token (GET /v1, the OpenAPI document). */
    public?: boolean
    /** Authenticated but not counted against the rate limit (GET /v1/rate_limit). */
    uncounted?: boolean
  }
}
