// A webhook receiver on 127.0.0.1, as an app provider would run one: it records every delivery
// (headers, body, when) and answers as the test tells it to, per path.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { once } from 'node:events'

export interface Received {
  path: string
  headers: IncomingMessage['headers']
  body: string
  at: number
  /** The status it was answered with (undefined: left hanging). */
  answered?: number
}

/** How to answer a delivery: a status, or 'hang' to never answer. */
export type Behaviour = (delivery: Received, earlier: Received[]) => number | 'hang' | Promise<number | 'hang'>

export class Receiver {
  readonly received: Received[] = []
  private server!: Server
  private behaviours: Array<[string, Behaviour]> = []
  origin = ''

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', async () => {
        const delivery: Received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() }
        const earlier = this.received.filter((r) => r.path === delivery.path)
        this.received.push(delivery)
        const behave = this.behaviours.find(([prefix]) => delivery.path.startsWith(prefix))?.[1]
        const answer = behave ? await behave(delivery, earlier) : 200
        if (answer === 'hang') return
        delivery.answered = answer
        res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'not now')
      })
    })
    this.server.listen(0, '127.0.0.1')
    await once(this.server, 'listening')
    this.origin = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`
    return this
  }

  /** Answers deliveries to paths starting with `prefix` this way (the first matching prefix wins). */
  on(prefix: string, behaviour: Behaviour): void {
    this.behaviours.unshift([prefix, behaviour])
  }

  /** Deliveries to paths starting with `prefix`. */
  at(prefix: string): Received[] {
    return this.received.filter((r) => r.path.startsWith(prefix))
  }

  /** Waits until `check` holds, or fails with what was received. */
  async until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; received: ${this.received.map((r) => `${r.path} -> ${r.answered}`).join(', ')}`)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections()
    this.server.close()
    await once(this.server, 'close').catch(() => {})
  }
}

/** The JWT of a delivery body. */
export const jwtOf = (delivery: Received): string => JSON.parse(delivery.body).jwt
