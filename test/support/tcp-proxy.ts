// A TCP proxy on a free loopback port in front of a real service (PostgreSQL, Redis), which a
// test can cut and restore: the service "goes away" and "comes back" without being restarted.
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'

export interface TcpProxy {
  port: number
  /** Closes every connection through the proxy and refuses new ones. */
  cut(): Promise<void>
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>
  close(): Promise<void>
}

export async function tcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let server: Server | undefined
  let port = 0

  async function listen(): Promise<void> {
    server = createServer((client) => {
      const upstream = connect(targetPort, targetHost)
      for (const socket of [client, upstream]) {
        sockets.add(socket)
        socket.on('close', () => sockets.delete(socket))
        socket.on('error', () => socket.destroy())
      }
      client.pipe(upstream).pipe(client)
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
  return { port, cut: stop, restore: listen, close: stop }
}
