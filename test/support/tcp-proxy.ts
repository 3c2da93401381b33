// A TCP proxy on a free loopback port in front of a real service (PostgreSQL, Redis), which a
// test can cut and restore: the service "goes away" and "comes back" without being restarted.
// It can also freeze: connections stay open (and new ones are accepted) but no byte passes in
// either direction until it thaws, as when a server hangs or a network drops packets silently.
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'

export interface TcpProxy {
  port: number
  /** Closes every connection through the proxy and refuses new ones. */
  cut(): Promise<void>
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>
  /** Stops forwarding bytes on every connection, present and new, without closing any. */
  freeze(): void
  /** Forwards again whatever waited during the freeze, and everything after. */
  thaw(): void
  close(): Promise<void>
}

export async function tcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  const pairs = new Set<[Socket, Socket]>()
  let server: Server | undefined
  let port = 0
  let frozen = false

  const join = ([client, upstream]: [Socket, Socket]) => {
    client.pipe(upstream)
    upstream.pipe(client)
  }
  const part = ([client, upstream]: [Socket, Socket]) => {
    client.unpipe(upstream)
    upstream.unpipe(client)
    client.pause()
    upstream.pause()
  }

  async function listen(): Promise<void> {
    server = createServer((client) => {
      const upstream = connect(targetPort, targetHost)
      const pair: [Socket, Socket] = [client, upstream]
      pairs.add(pair)
      for (const socket of pair) {
        sockets.add(socket)
        socket.on('close', () => {
          sockets.delete(socket)
          pairs.delete(pair)
        })
        socket.on('error', () => socket.destroy())
      }
      if (frozen) part(pair)
      else join(pair)
      client.on('close', () => upstream.destroy())
      upstream.on('close', () => client.destroy())
    })
    server.listen(port, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as { port: number }).port
  }

  async function stop(): Promise<void> {
    if (!server) return
    const closing = once(server, 'close')
    server.close()
    for (const socket of sockets) socket.destroy()
    await closing
    server = undefined
  }

  await listen()
  return {
    port,
    cut: stop,
    restore: listen,
    freeze() {
      frozen = true
      for (const pair of pairs) part(pair)
    },
    thaw() {
      frozen = false
      for (const pair of pairs) join(pair)
    },
    close: stop,
  }
}
