import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type WebSocket from 'ws';
import type { ResolvedSurfaces } from '../config/bridge-options.js';
import { BRIDGE_SURFACES } from '../config/config.module.js';
import { Heartbeat } from '../websocket/heartbeat.js';
import type { RouteParams } from '../websocket/upgrade-route.js';
import { UpgradeRouter, type UpgradeVerdict } from '../websocket/upgrade-router.service.js';
import { ListenAccess, type ListenTarget } from './listen-access.js';
import { ListenHub } from './listen-hub.service.js';
import { ListenRelayClient } from './listen-relay-client.service.js';
import type { RelaySession } from './relay-session.js';
import {
  LISTEN_PING_INTERVAL_MS,
  LISTEN_ROUTES,
  MAX_LISTEN_CLIENT_FRAME_BYTES,
} from './listen.constants.js';

/**
 * The listen routes on the bridge's upgrade router (so they work in a host application too):
 * each upgrade vetted by ListenAccess before any WebSocket exists, a refusal answered as plain
 * HTTP, an accepted socket handed to the ListenHub with the call it was vetted for; or, for a
 * call another instance of the cluster carries, to the relay session opened to that owner.
 */
@Injectable()
export class ListenUpgrade implements OnModuleInit {
  private readonly vetted = new WeakMap<IncomingMessage, ListenTarget | RelaySession>();
  private readonly log = new Logger('Listen');

  constructor(
    private readonly router: UpgradeRouter,
    private readonly access: ListenAccess,
    private readonly hub: ListenHub,
    private readonly relay: ListenRelayClient,
    @Inject(BRIDGE_SURFACES) private readonly surfaces: ResolvedSurfaces,
  ) {}

  onModuleInit(): void {
    for (const { path, kind } of LISTEN_ROUTES) {
      // The API's socket is part of the call-control surface, the console's of the console.
      if (!this.surfaces[kind === 'api' ? 'callControl' : 'console']) continue;
      this.router.route({
        path,
        maxPayload: MAX_LISTEN_CLIENT_FRAME_BYTES,
        verify: (req, params) => this.verify(req, kind, params),
        connect: (socket, req) => this.connect(socket, req),
      });
    }
  }

  private async verify(
    req: IncomingMessage,
    kind: 'api' | 'console',
    params: RouteParams,
  ): Promise<UpgradeVerdict> {
    const verdict = await this.access.vet(req, kind, params.callSid ?? '', this.hub.count);
    if (!verdict.ok) return verdict;
    if ('target' in verdict) {
      this.vetted.set(req, verdict.target);
      return { ok: true };
    }
    // Only now, with the operator authenticated here, is the owner asked anything.
    const opening = await this.relay.open(verdict.remote);
    if (!opening.ok) return opening;
    this.vetted.set(req, opening.session);
    return { ok: true };
  }

  private connect(socket: WebSocket, req: IncomingMessage): void {
    const vetted = this.vetted.get(req);
    if (!vetted) return void socket.close(1011, 'not vetted');
    // Here, or relayed from the owner: either way this is the operator's own socket.
    const heartbeat = new Heartbeat(socket, LISTEN_PING_INTERVAL_MS, (why) => {
      this.log.warn(`dropped a listener of ${vetted.callSid}: ${why}`);
      socket.terminate();
    });
    socket.on('message', heartbeat.heard);
    if ('attach' in vetted) vetted.attach(socket);
    else this.hub.accept(socket, vetted);
  }
}
