import { BadRequestException, Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type WebSocket from 'ws';
import { CallRegistry } from '../call/call-registry.service.js';
import { LogThrottle } from '../logging/log-throttle.js';
import { limitsConfig, type LimitsConfig } from '../config/config.namespaces.js';
import { BridgeMetrics } from '../metrics/bridge-metrics.service.js';
import { MEDIA_STREAM_PATH } from '../twilio/public-url.js';
import { TwilioSignatureService } from '../twilio/twilio-signature.service.js';
import { MediaStreamConnection, type ConnectionHost } from './media-stream-connection.js';
import { MAX_FRAME_BYTES, startTimeoutMs } from './media-stream.limits.js';
import { StreamStarter } from './stream-starter.service.js';
import { UpgradeRouter, type UpgradeVerdict } from '../websocket/upgrade-router.service.js';

/** Lines a second (and burst) about refused or destroyed streams: strangers cause these. */
const REFUSAL_LOG_LINES_PER_S = 10;
const REFUSAL_LOG_BURST = 50;
/** Set on an upgrade request whose X-Twilio-Signature was valid (or not checked at all). */
const SIGNED = Symbol('signed media stream upgrade');

type VettedRequest = IncomingMessage & { [SIGNED]?: boolean };

/**
 * Accepts Twilio's media WebSocket on the upgrade router (not a Nest gateway: the application's
 * WebSocket adapter stays the application's): vets the upgrade, then gives each socket a
 * MediaStreamConnection, which waits for its `start` in the bounded pending pool and, once the
 * StreamStarter has made it a call, hands the call its frames. Each socket's messages are read
 * by its connection directly, keeping the per-frame path flat.
 */
@Injectable()
export class MediaStreamGateway implements OnModuleInit {
  private readonly log = new Logger(MediaStreamGateway.name);
  private readonly refusals = new LogThrottle(REFUSAL_LOG_LINES_PER_S, REFUSAL_LOG_BURST);
  private readonly host: ConnectionHost;

  constructor(
    private readonly signatures: TwilioSignatureService,
    private readonly registry: CallRegistry,
    starter: StreamStarter,
    metrics: BridgeMetrics,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
    private readonly router: UpgradeRouter,
  ) {
    this.host = {
      starter,
      pool: registry,
      metrics,
      warn: (message) => this.warnRefusal(message),
      error: (message) => this.log.error(message),
    };
  }

  onModuleInit(): void {
    this.router.route({
      path: MEDIA_STREAM_PATH,
      // Per server: a started call needs 64 KiB; streams before `start` are held to less by length.
      maxPayload: MAX_FRAME_BYTES,
      verify: (req) => this.verifyUpgrade(req),
      connect: (socket, req) => this.handleConnection(socket, req),
    });
  }

  /**
   * Layer one, before the socket exists: a present and wrong signature is refused. A valid one
   * proves nothing about the call (Twilio signs the stream URL, the same for every call, so a
   * captured signature replays forever): it takes no call slot, only a longer wait for `start`.
   * Capacity is checked at `start` (and at the webhook, which answers busy TwiML).
   */
  verifyUpgrade(req: IncomingMessage): UpgradeVerdict {
    const refuse = (status: number, message: string, reason: string): UpgradeVerdict => {
      this.warnRefusal(`refused media stream upgrade from ${req.socket.remoteAddress}: ${reason}`);
      return { ok: false, status, message };
    };
    let verdict;
    try {
      verdict = this.signatures.verifyHandshake(req);
    } catch (error) {
      // A Host (or X-Forwarded-Host) that cannot name a URL: the client's mistake.
      if (error instanceof BadRequestException) return refuse(400, 'Bad Request', error.message);
      throw error;
    }
    if (verdict === 'invalid') return refuse(403, 'Forbidden', 'invalid X-Twilio-Signature');
    if (this.registry.isDraining) return refuse(503, 'Service Unavailable', 'shutting down');
    (req as VettedRequest)[SIGNED] = verdict !== 'missing';
    return { ok: true };
  }

  /** Every accepted socket waits in the pending pool; a full pool evicts its oldest. */
  handleConnection(socket: WebSocket, req?: VettedRequest): void {
    const signed = req?.[SIGNED] === true;
    const timeout = startTimeoutMs(signed, this.limits.streamStartTimeoutMs);
    this.registry.addPending(new MediaStreamConnection(socket, this.host, timeout), signed);
  }

  private warnRefusal(message: string): void {
    const line = this.refusals.line(message);
    if (line) this.log.warn(line);
  }
}
