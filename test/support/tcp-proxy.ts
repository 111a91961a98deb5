import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a server, for network faults that close nothing: `blackhole` makes
 * the connections it picks drop every byte, both ways, while both ends stay open, as a NAT or
 * load balancer does when it forgets a flow.
 */
export class TcpProxy {
  private readonly links = new Set<{
    client: Socket;
    upstream: Socket;
    seen: string;
    dead: boolean;
  }>();

  /** While set, every connection is closed (those open and those that come): the server is away. */
  private away = false;

  private constructor(private readonly server: Server) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    // Half-open allowed: a forgotten flow does not pass a FIN on either.
    const server = createServer({ allowHalfOpen: true });
    const proxy = new TcpProxy(server);
    server.on('connection', (client) => proxy.link(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** From now on drops every byte of the open connections whose client sent `pattern`. */
  blackhole(pattern: RegExp): number {
    let count = 0;
    for (const link of this.links) {
      if (!link.dead && pattern.test(link.seen)) {
        link.dead = true;
        count++;
      }
    }
    return count;
  }

  /** The server is away for the client: open connections break, new ones are closed at once. */
  cut(): void {
    this.away = true;
    for (const { client, upstream } of this.links) {
      client.destroy();
      upstream.destroy();
    }
    this.links.clear();
  }

  /** The server answers again through the proxy. */
  restore(): void {
    this.away = false;
  }

  async close(): Promise<void> {
    for (const { client, upstream } of this.links) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private link(client: Socket, targetPort: number): void {
    if (this.away) {
      client.destroy();
      return;
    }
    const upstream = connect({ port: targetPort, host: '127.0.0.1', allowHalfOpen: true });
    const link = { client, upstream, seen: '', dead: false };
    this.links.add(link);
    client.on('data', (data: Buffer) => {
      // What the client said first is enough to tell its connections apart.
      if (link.seen.length < 4096) link.seen += data.toString('latin1');
      if (!link.dead) upstream.write(data);
    });
    upstream.on('data', (data: Buffer) => {
      if (!link.dead) client.write(data);
    });
    client.on('end', () => !link.dead && upstream.end());
    upstream.on('end', () => !link.dead && client.end());
    const closed = () => {
      // A dead link passes nothing on, a close neither; close() destroys what is left of it.
      if (link.dead) return;
      this.links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', closed);
    upstream.on('close', closed);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  }
}
