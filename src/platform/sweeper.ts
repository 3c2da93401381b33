// Runs the sweeper of unreferenced uploads (records/uploads.ts) in the server process, every
// ATTACHMENT_SWEEP_INTERVAL seconds. Safe with several processes on one database: each upload is
// deleted by the one process whose DELETE finds it still unreferenced. A run never overlaps the
// previous one, and a failed run (the database away) is logged and tried again next time.
import type { Logger } from 'pino'
import type { Uploads } from '../records/uploads.ts'

export class Sweeper {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined

  constructor(
    private readonly uploads: Uploads,
    private readonly intervalSeconds: number,
    private readonly log: Pick<Logger, 'info' | 'warn'>,
  ) {}

  start(): void {
    if (this.intervalSeconds <= 0 || this.timer) return
    this.timer = setInterval(() => void this.run(), this.intervalSeconds * 1000).unref()
  }

  /** One run, unless one is under way; answers when it is over. */
  run(): Promise<void> {
    this.running ??= this.uploads
      .sweep()
      .then(
        (deleted) => {
          if (deleted > 0) this.log.info({ deleted }, 'swept uploads no record refers to')
        },
        (error: unknown) => this.log.warn({ err: error }, 'sweeping unreferenced uploads failed; trying again at the next interval'),
      )
      .finally(() => (this.running = undefined))
    return this.running
  }

  /** Stops the timer and waits for a run under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.running
  }
}
