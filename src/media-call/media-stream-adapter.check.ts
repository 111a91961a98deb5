import { Injectable, type OnModuleInit, type WebSocketAdapter } from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import { MediaStreamWsAdapter } from './media-stream-ws.adapter.js';

const MISSING =
  'The bridge needs its WebSocket adapter: call useTwilioBridge(app) (from twilio-realtime-bridge) before app.listen() or app.init()';

/**
 * Stands in for the application's WebSocket adapter until `useTwilioBridge(app)` replaces it,
 * so that forgetting that call fails the start with a message naming it. Without a stand-in,
 * Nest would look for `@nestjs/platform-socket.io` and exit the process saying that is missing.
 */
class MissingMediaStreamAdapter implements WebSocketAdapter {
  create(): never {
    throw new Error(MISSING);
  }
  bindClientConnect(): void {}
  bindMessageHandlers(): void {}
  close(): void {}
  dispose(): void {}
}

/** Makes a start without the bridge's adapter fail with a clear message, not a misleading one. */
@Injectable()
export class MediaStreamAdapterCheck implements OnModuleInit {
  constructor(private readonly appConfig: ApplicationConfig) {
    // Runs in NestFactory.create, before the application's code could install any adapter.
    if (!appConfig.getIoAdapter()) appConfig.setIoAdapter(new MissingMediaStreamAdapter());
  }

  /** After the gateways are up: one installed later than useTwilioBridge would serve the media path without the upgrade checks. */
  onModuleInit(): void {
    const adapter = this.appConfig.getIoAdapter();
    if (adapter instanceof MissingMediaStreamAdapter || adapter instanceof MediaStreamWsAdapter) {
      return;
    }
    throw new Error(
      `The application's WebSocket adapter is ${adapter?.constructor.name ?? 'none'}, not the bridge's: call useTwilioBridge(app) after any app.useWebSocketAdapter(...); other gateways can share the bridge's (Nest's ws adapter)`,
    );
  }
}
