import { Inject, Logger } from '@nestjs/common';
import { WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type WebSocket from 'ws';
import { CallRegistry } from '../call/call-registry.service.js';
import { CallSessionFactory } from '../call/call-session.factory.js';
import type { CallSession } from '../call/call-session.js';
import { rawDataToBuffer } from '../common/raw-data.js';
import { twilioConfig, type TwilioConfig } from '../config/config.namespaces.js';
import {
  parseTwilioMessage,
  type StartFrame,
  type TwilioInboundFrame,
} from '../twilio/media-stream.messages.js';
import { MEDIA_STREAM_PATH } from '../twilio/public-url.js';
import { StreamTokenService } from '../twilio/stream-token.service.js';
import { TwilioSignatureService } from '../twilio/twilio-signature.service.js';
import type { UpgradeVerdict } from './media-stream-ws.adapter.js';

/** Twilio frames are ~300 bytes; a frame over this is refused (the socket closes with 1009). */
export const MAX_FRAME_BYTES = 64 * 1024;
/** A stream must present a valid `start` this soon after connecting. */
const START_TIMEOUT_MS = 10_000;
/** Frames kept while the call's session is being created (a few ms; bounded all the same). */
const MAX_FRAMES_BEFORE_SESSION = 100;
/** Invalid frames logged per stream before it has a session; the rest are only counted. */
const MAX_LOGGED_DROPS = 5;
/** Custom parameters only the bridge itself reads; kept out of the call's context. */
const INTERNAL_PARAMETERS = new Set(['token']);

/**
 * Accepts Twilio's media WebSocket: vets the upgrade, authenticates the stream's `start`, asks
 * for a CallSession, and hands it every frame. Nothing else.
 */
@WebSocketGateway({
  path: MEDIA_STREAM_PATH,
  maxPayload: MAX_FRAME_BYTES,
  perMessageDeflate: false,
})
export class MediaStreamGateway implements OnGatewayConnection {
  private readonly log = new Logger(MediaStreamGateway.name);

  constructor(
    private readonly signatures: TwilioSignatureService,
    private readonly streamTokens: StreamTokenService,
    private readonly registry: CallRegistry,
    private readonly sessions: CallSessionFactory,
    @Inject(twilioConfig.KEY) private readonly twilioCfg: TwilioConfig,
  ) {}

  /** Layer one: a present and wrong signature is refused before the socket exists. */
  verifyUpgrade(req: IncomingMessage): UpgradeVerdict {
    const refuse = (status: number, message: string, reason: string): UpgradeVerdict => {
      this.log.warn(`refused media stream upgrade from ${req.socket.remoteAddress}: ${reason}`);
      return { ok: false, status, message };
    };
    if (this.signatures.verifyHandshake(req) === 'invalid') {
      return refuse(403, 'Forbidden', 'invalid X-Twilio-Signature');
    }
    if (this.registry.isDraining) return refuse(503, 'Service Unavailable', 'shutting down');
    if (!this.registry.hasCapacity()) {
      return refuse(
        503,
        'Service Unavailable',
        `${this.registry.maxConcurrentCalls} calls already active`,
      );
    }
    // A missing signature is left to the stream token (layer two): proxies may strip the header.
    return { ok: true };
  }

  handleConnection(socket: WebSocket): void {
    this.registry.reserveStream();
    let reserved = true;
    let session: CallSession | undefined;
    let starting = false;
    let dropsBeforeSession = 0;
    let oversized = false;
    const early: TwilioInboundFrame[] = [];

    const release = () => {
      if (reserved) this.registry.releaseStream();
      reserved = false;
    };
    const refuse = (reason: string, callSid?: string) => {
      this.log.warn(`refused media stream${callSid ? ` for callSid=${callSid}` : ''}: ${reason}`);
      socket.close(1008, reason.slice(0, 120));
    };
    const drop = (reason: string) => {
      if (session) session.countDrop(reason);
      else if (++dropsBeforeSession <= MAX_LOGGED_DROPS) {
        this.log.warn(`dropped Twilio frame before start: ${reason}`);
      }
    };
    const startTimer = setTimeout(() => refuse('no valid start frame in time'), START_TIMEOUT_MS);

    const start = async (frame: StartFrame) => {
      const refusal = this.refusalFor(frame);
      if (refusal) return refuse(refusal, frame.start.callSid);
      clearTimeout(startTimer);
      starting = true;
      const created = await this.sessions.create({
        callSid: frame.start.callSid,
        streamSid: frame.streamSid,
        accountSid: frame.start.accountSid,
        customParameters: Object.fromEntries(
          Object.entries(frame.start.customParameters).filter(
            ([name]) => !INTERNAL_PARAMETERS.has(name),
          ),
        ),
      });
      release();
      if (socket.readyState !== socket.OPEN) return;
      session = created;
      session.begin(socket);
      for (const queued of early.splice(0)) session.handleTwilioFrame(queued);
    };

    socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (isBinary) return drop('binary frame (Twilio sends text)');
      const result = parseTwilioMessage(rawDataToBuffer(data));
      if (!result.ok) return drop(result.reason);
      const frame = result.frame;
      if (session) return session.handleTwilioFrame(frame);
      if (starting) {
        if (early.push(frame) > MAX_FRAMES_BEFORE_SESSION) early.shift();
        return;
      }
      switch (frame.event) {
        case 'connected':
          return;
        case 'start':
          start(frame).catch((error: unknown) => {
            this.log.error(`could not start call ${frame.start.callSid}: ${String(error)}`);
            socket.close(1011, 'internal error');
          });
          return;
        case 'stop':
          socket.close(1000);
          return;
        case 'media':
        case 'mark':
        case 'dtmf':
          return drop(`${frame.event} before start`);
      }
    });
    socket.on('close', (code: number) => {
      clearTimeout(startTimer);
      release();
      const why = oversized
        ? 'Twilio frame over the 64 KiB limit'
        : `Twilio socket closed (${code})`;
      session?.close(why, oversized ? 'warn' : 'log', oversized ? 'refused' : 'completed');
    });
    socket.on('error', (error: Error & { code?: string }) => {
      oversized ||= error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
      this.log.warn(
        `${session ? `[callSid=${session.context.callSid}] ` : ''}media stream socket error: ${error.message}`,
      );
    });
  }

  /** Layer two: the per-call token from our TwiML, bound to this start's own CallSid. */
  private refusalFor(frame: StartFrame): string | undefined {
    const { callSid, accountSid, customParameters } = frame.start;
    if (this.registry.isDraining) return 'the bridge is shutting down';
    if (this.signatures.enabled) {
      const verdict = this.streamTokens.verify(callSid, customParameters.token);
      if (verdict !== 'valid') return `stream token ${verdict}`;
    }
    const expectedAccount = this.twilioCfg.accountSid;
    if (expectedAccount && accountSid !== expectedAccount) {
      return `start.accountSid ${accountSid} is not TWILIO_ACCOUNT_SID`;
    }
    if (customParameters.CallSid !== undefined && customParameters.CallSid !== callSid) {
      return 'CallSid parameter does not match start.callSid';
    }
    return this.registry.refusalFor(callSid);
  }
}
