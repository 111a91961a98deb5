import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { Observable } from 'rxjs';
import { MEDIA_STREAM_PATH } from '../twilio/public-url.js';

export type UpgradeVerdict = { ok: true } | { ok: false; status: number; message: string };
export type UpgradeVerifier = (req: IncomingMessage) => UpgradeVerdict;

/**
 * Nest's WsAdapter with two changes for Twilio:
 * - upgrades are vetted before the WebSocket exists (`verifyClient`), so a bad signature or a
 *   shutdown gets a real HTTP 403/503 instead of an accepted-then-closed socket (capacity is
 *   checked at `start`: a signature proves nothing about the call); only the media stream's:
 *   an application that imports the bridge may have gateways of its own;
 * - a gateway without `@SubscribeMessage` handlers gets no message listener: ours reads its
 *   sockets directly, to keep the per-frame path flat, and a second listener would parse every
 *   frame again for nothing.
 */
export class MediaStreamWsAdapter extends WsAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly verifyUpgrade: UpgradeVerifier,
  ) {
    super(app);
  }

  override create(
    port: number,
    options?: Record<string, unknown> & { namespace?: string; server?: unknown; path?: string },
  ): unknown {
    if (options?.path !== MEDIA_STREAM_PATH) return super.create(port, options);
    return super.create(port, {
      ...options,
      verifyClient: (
        info: { req: IncomingMessage },
        done: (ok: boolean, status?: number, message?: string) => void,
      ) => {
        const verdict = this.verifyUpgrade(info.req);
        if (verdict.ok) done(true);
        else done(false, verdict.status, verdict.message);
      },
    });
  }

  override bindMessageHandlers(
    client: unknown,
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    if (handlers.length === 0) return;
    super.bindMessageHandlers(client, handlers, transform);
  }
}
