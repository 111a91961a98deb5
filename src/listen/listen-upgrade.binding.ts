import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ListenUpgrade } from './listen-upgrade.js';

type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * TEMPORARY, until the bridge's upgrade router (issue 26) exists: puts the listen routes in
 * front of the HTTP server's other `upgrade` listeners (Nest's WsAdapter destroys any upgrade
 * whose path none of its gateways has), which get every other upgrade as before.
 */
@Injectable()
export class ListenUpgradeBinding implements OnApplicationBootstrap {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly listen: ListenUpgrade,
  ) {}

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) return;
    const others = server.listeners('upgrade') as UpgradeListener[];
    server.removeAllListeners('upgrade');
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.listen.matches(req)) return this.listen.handle(req, socket, head);
      for (const other of others) other.call(server, req, socket, head);
    });
  }
}
