import { jest } from '@jest/globals';
import type { HttpAdapterHost } from '@nestjs/core';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import type { BridgeMount } from '../http/bridge-mount.service.js';
import { UPGRADE_ANSWER_DEADLINE_MS, UpgradeRouter } from './upgrade-router.service.js';

/** A plain HTTP server with the router on it, as HttpAdapterHost would give it. */
async function serverWithRouter(
  mount = '',
): Promise<{ server: Server; router: UpgradeRouter; url: string }> {
  const server = createServer((_req, res) => res.end('plain'));
  const host = { httpAdapter: { getHttpServer: () => server } } as unknown as HttpAdapterHost;
  const router = new UpgradeRouter(host, { path: mount } as BridgeMount);
  router.onModuleInit();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, router, url: `ws://127.0.0.1:${port}` };
}

/** The HTTP status a WebSocket client got instead of a socket (0 if it opened). */
function statusOf(url: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    socket.on('open', () => {
      socket.close();
      resolve(0);
    });
    socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? -1));
    socket.on('error', () => resolve(-1));
  });
}

describe('UpgradeRouter', () => {
  let running: { server: Server; router: UpgradeRouter } | undefined;

  afterEach(async () => {
    running?.router.onApplicationShutdown();
    await new Promise((resolve) => running?.server.close(resolve));
    running = undefined;
  });

  it('hands an accepted upgrade to its route, with the path parameters, under the mount', async () => {
    const { server, router, url } = await serverWithRouter('/voice');
    running = { server, router };
    const connected: Array<Record<string, string>> = [];
    router.route({
      path: '/calls/:callSid/listen',
      maxPayload: 1024,
      verify: (_req, params) =>
        Promise.resolve(
          params.callSid === 'CA1'
            ? { ok: true }
            : { ok: false, status: 404, message: 'Not Found' },
        ),
      connect: (socket, _req, params) => {
        connected.push(params);
        socket.close();
      },
    });
    expect(await statusOf(`${url}/voice/calls/CA1/listen`)).toBe(0);
    expect(connected).toEqual([{ callSid: 'CA1' }]);
    expect(await statusOf(`${url}/voice/calls/CA2/listen`)).toBe(404);
    expect(await statusOf(`${url}/calls/CA1/listen`)).toBe(404);
  });

  it('answers 503 itself when a verification outlasts UPGRADE_ANSWER_DEADLINE_MS', async () => {
    const { server, router, url } = await serverWithRouter();
    running = { server, router };
    const connect = jest.fn();
    router.route({
      path: '/slow',
      maxPayload: 1024,
      verify: () => new Promise(() => undefined),
      connect,
    });
    const sentAt = Date.now();
    expect(await statusOf(`${url}/slow`)).toBe(503);
    expect(Date.now() - sentAt).toBeLessThan(UPGRADE_ANSWER_DEADLINE_MS + 500);
    expect(connect).not.toHaveBeenCalled();
  });

  it('passes other paths to the server’s other listeners and keeps its own from them', async () => {
    const { server, router, url } = await serverWithRouter();
    running = { server, router };
    router.route({
      path: '/mine',
      maxPayload: 1024,
      verify: () => ({ ok: true }),
      connect: (s) => s.close(),
    });
    const seen: string[] = [];
    // Added after the router, as an adapter attaching at listen() would be.
    server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      seen.push(req.url ?? '');
      socket.end('HTTP/1.1 418 I am a teapot\r\nConnection: close\r\n\r\n');
    });
    expect(await statusOf(`${url}/theirs`)).toBe(418);
    expect(await statusOf(`${url}/mine`)).toBe(0);
    expect(seen).toEqual(['/theirs']);
  });

  it('answers 404 to an upgrade nobody serves, and gives the server back at shutdown', async () => {
    const { server, router, url } = await serverWithRouter();
    running = { server, router };
    expect(await statusOf(`${url}/nobody`)).toBe(404);
    router.onApplicationShutdown();
    expect(server.listenerCount('upgrade')).toBe(0);
  });
});
