import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { Observable } from 'rxjs';
import type { RawData } from 'ws';
import { rawDataToBuffer } from '../common/raw-data.js';
import { parseTwilioMessage } from '../twilio/media-stream.messages.js';

export type UpgradeVerdict = { ok: true } | { ok: false; status: number; message: string };
export type UpgradeVerifier = (req: IncomingMessage) => UpgradeVerdict;

/**
 * Nest's WsAdapter with two changes for Twilio:
 * - upgrades are vetted before the WebSocket exists (`verifyClient`), so a bad signature or a
 *   full house gets a real HTTP 403/503 instead of an accepted-then-closed socket;
 * - messages are Twilio frames (`{"event": ...}` with no `data`), so the parser maps them to
 *   Nest's `{event, data}` shape for any `@SubscribeMessage` handler, and when a gateway has no
 *   handlers (ours reads its sockets directly, to keep the per-frame path flat) nothing is bound.
 */
export class MediaStreamWsAdapter extends WsAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly verifyUpgrade: UpgradeVerifier,
  ) {
    super(app, {
      messageParser: (data) => {
        const result = parseTwilioMessage(rawDataToBuffer(data as RawData));
        return result.ok ? { event: result.frame.event, data: result.frame } : undefined;
      },
    });
  }

  override create(
    port: number,
    options?: Record<string, unknown> & { namespace?: string; server?: unknown; path?: string },
  ): unknown {
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
