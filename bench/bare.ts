// The baseline: a bare node:http server that answers each known URL with the status and headers
// the real server gave for it, and either the exact body (`body`) or a body of the recorded size
// (`size`, bytes cut from one recorded body repeated: the many-URL scenarios record thousands of
// answers, and only their sizes are kept). Any PATCH gets the answer recorded under "PATCH".
// Answers come as JSON on stdin; it prints its port once listening.
import { createServer } from 'node:http'

interface Recorded {
  status: number
  headers: Record<string, string>
  body?: string
  size?: number
}

interface Input {
  answers: Record<string, Recorded>
  /** Bytes to cut sized bodies from. */
  filler?: string
}

let input = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => (input += chunk))
process.stdin.on('end', () => {
  const { answers: recorded, filler = ' ' } = JSON.parse(input) as Input
  input = ''
  let largest = 0
  for (const r of Object.values(recorded)) largest = Math.max(largest, r.size ?? 0)
  const fill = Buffer.from(filler.repeat(Math.ceil(largest / Math.max(1, filler.length)) + 1))
  const answers = new Map<string, { status: number; headers: Record<string, string>; body: Buffer }>()
  for (const [url, r] of Object.entries(recorded)) {
    answers.set(url, { status: r.status, headers: r.headers, body: r.body !== undefined ? Buffer.from(r.body) : fill.subarray(0, r.size ?? 0) })
  }
  const patch = answers.get('PATCH')
  const server = createServer((req, res) => {
    const answer = req.method === 'PATCH' ? patch : answers.get(req.url ?? '')
    if (!answer) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(answer.status, answer.headers).end(answer.body)
  })
  server.keepAliveTimeout = 30_000
  server.listen(0, '127.0.0.1', () => {
    const address = server.address()
    process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`)
  })
  process.on('SIGTERM', () => server.close(() => process.exit(0)))
})
