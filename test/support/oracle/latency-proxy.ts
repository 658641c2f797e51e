/**
 * A TCP proxy in front of Redis that adds latency on demand: the service connects through it, so
 * the nemesis can make Redis slow (every chunk held `delayMs` in each direction, order kept)
 * without touching Redis itself. With no delay it only forwards.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class LatencyProxy {
  delayMs = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(upstreamHost: string, upstreamPort: number): Promise<LatencyProxy> {
    const made: { proxy?: LatencyProxy } = {}; // the server accepts only once it listens
    const server = createServer((client) => made.proxy?.accept(client, upstreamHost, upstreamPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    made.proxy = new LatencyProxy(server, (server.address() as { port: number }).port);
    return made.proxy;
  }

  private accept(client: Socket, host: string, port: number): void {
    const upstream = connect(port, host);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      // one side gone (Redis stopped, client closed): the other goes too, as a real connection would
      s.on('error', () => undefined);
      s.on('close', () => (s === client ? upstream : client).destroy());
    }
    this.pipe(client, upstream);
    this.pipe(upstream, client);
  }

  /** Forwards every chunk after the current delay, in order (a queue per direction). */
  private pipe(from: Socket, to: Socket): void {
    let tail = Promise.resolve();
    from.on('data', (chunk) => {
      const due = Date.now() + this.delayMs;
      tail = tail
        .then(() =>
          due > Date.now() ? new Promise((r) => setTimeout(r, due - Date.now())) : undefined,
        )
        .then(() => {
          if (!to.destroyed) to.write(chunk);
        });
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
