// The baseline: a bare node:http server that answers each known path with the exact status,
// headers and body the real server gave for it. Responses come as JSON on stdin; it prints its
// port once listening.
import { createServer } from 'node:http'

interface Recorded {
  status: number
  headers: Record<string, string>
  body: string
}

let input = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => (input += chunk))
process.stdin.on('end', () => {
  const answers = new Map<string, { status: number; headers: Record<string, string>; body: Buffer }>()
  for (const [path, r] of Object.entries(JSON.parse(input) as Record<string, Recorded>)) {
    answers.set(path, { status: r.status, headers: r.headers, body: Buffer.from(r.body) })
  }
  const server = createServer((req, res) => {
    const answer = answers.get(req.url ?? '')
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
