import { BadRequestException, Inject, Logger } from '@nestjs/common';
import { WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type WebSocket from 'ws';
import { CallPlans } from '../call/call-plans.service.js';
import { CallRegistry } from '../call/call-registry.service.js';
import { CallDirectory } from '../cluster/call-directory.js';
import { CallFactory } from '../call/call.factory.js';
import type { CallOrchestrator } from '../call/call-orchestrator.js';
import { closeReason } from '../common/close-reason.js';
import { LogThrottle } from '../common/log-throttle.js';
import { REFUSAL_LOG_BURST, REFUSAL_LOG_LINES_PER_S } from '../common/refusal-log.js';
import { rawDataToBuffer } from '../common/raw-data.js';
import {
  limitsConfig,
  twilioConfig,
  type LimitsConfig,
  type TwilioConfig,
} from '../config/config.namespaces.js';
import { BridgeMetrics, type StreamRefusal } from '../metrics/bridge-metrics.service.js';
import type { StartFrame, TwilioInboundFrame } from '../twilio/media-stream.messages.js';
import { parseTwilioMessage } from '../twilio/media-stream.fast.js';
import { MEDIA_STREAM_PATH } from '../twilio/public-url.js';
import { isAccountSid, isCallSid } from '../twilio/sids.js';
import { StreamReplayMemory } from '../twilio/stream-replay-memory.js';
import { StreamTokenService } from '../twilio/stream-token.service.js';
import { TwilioSignatureService } from '../twilio/twilio-signature.service.js';
import { MediaRateLimiter } from './media-rate-limiter.js';
import type { UpgradeVerdict } from './media-stream-ws.adapter.js';

/** Twilio frames are ~300 bytes; a frame over this is refused (the socket closes with 1009). */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Frames kept while the call's session is being created (a few ms; bounded all the same). */
const MAX_FRAMES_BEFORE_SESSION = 100;
/** Invalid frames logged per stream before it has a session; the rest are only counted. */
const MAX_LOGGED_DROPS = 5;
/**
 * A refused stream gets a close frame with the reason, then is destroyed this much later
 * whatever the peer does: a silent peer could otherwise hold the socket for ws's 30 s.
 */
const REFUSED_CLOSE_GRACE_MS = 1000;
/** Custom parameters only the bridge itself reads; kept out of the call's context. */
const INTERNAL_PARAMETERS = new Set(['token']);
/** Set on an upgrade request whose X-Twilio-Signature was valid (or not checked at all). */
const SIGNED = Symbol('signed media stream upgrade');

type VettedRequest = IncomingMessage & { [SIGNED]?: boolean };

/**
 * Accepts Twilio's media WebSocket: vets the upgrade, authenticates the stream's `start`, asks
 * for a CallOrchestrator, and hands it every frame it should see (its own stream's, at no more than
 * real time). Nothing else.
 */
@WebSocketGateway({
  path: MEDIA_STREAM_PATH,
  maxPayload: MAX_FRAME_BYTES,
  perMessageDeflate: false,
})
export class MediaStreamGateway implements OnGatewayConnection {
  private readonly log = new Logger(MediaStreamGateway.name);
  private readonly refusals = new LogThrottle(REFUSAL_LOG_LINES_PER_S, REFUSAL_LOG_BURST);

  constructor(
    private readonly signatures: TwilioSignatureService,
    private readonly streamTokens: StreamTokenService,
    private readonly registry: CallRegistry,
    private readonly sessions: CallFactory,
    private readonly replays: StreamReplayMemory,
    private readonly directory: CallDirectory,
    private readonly plans: CallPlans,
    private readonly metrics: BridgeMetrics,
    @Inject(twilioConfig.KEY) private readonly twilioCfg: TwilioConfig,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
  ) {}

  /**
   * Layer one, before the socket exists: a present and wrong signature is refused; a signed
   * upgrade needs a free call slot; an unsigned one (proxies may strip the header) needs room
   * in the small pool of streams that still have to prove themselves with their `start` token.
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
    if (verdict === 'missing') {
      if (!this.registry.hasPendingRoom()) {
        this.metrics.streamRefused('pending_pool_full');
        return refuse(
          503,
          'Service Unavailable',
          `${this.limits.maxPendingStreams} unauthenticated streams already waiting (MAX_PENDING_STREAMS)`,
        );
      }
      return { ok: true };
    }
    if (!this.registry.hasCapacity()) {
      this.metrics.streamRefused('no_capacity');
      return refuse(
        503,
        'Service Unavailable',
        `${this.registry.maxConcurrentCalls} calls already active`,
      );
    }
    (req as VettedRequest)[SIGNED] = true;
    return { ok: true };
  }

  handleConnection(socket: WebSocket, req?: VettedRequest): void {
    const signed = req?.[SIGNED] === true;
    // What this socket holds: a call slot (signed, or authenticated by its token) or a place in
    // the unauthenticated pool. Released exactly once, whatever ends it.
    let holds: 'slot' | 'pending' | undefined;
    if (signed ? this.registry.reserveSlot() : this.registry.addPending()) {
      holds = signed ? 'slot' : 'pending';
    } else {
      // Filled up between the upgrade's check and now.
      this.metrics.streamRefused(signed ? 'no_capacity' : 'pending_pool_full');
      socket.terminate();
      return;
    }
    let session: CallOrchestrator | undefined;
    let starting = false;
    let refused = false;
    let dropsBeforeSession = 0;
    let oversized = false;
    const early: TwilioInboundFrame[] = [];
    const rate = new MediaRateLimiter();

    // The cluster lease of a call whose session never began (its session releases it otherwise).
    let leased: string | undefined;
    const releaseLease = () => {
      if (leased && !session) void this.directory.release(leased);
      leased = undefined;
    };
    const release = () => {
      if (holds === 'slot') this.registry.releaseSlot();
      if (holds === 'pending') this.registry.removePending();
      holds = undefined;
    };
    const refuse = (reason: string, why: StreamRefusal, callSid?: string, code = 1008) => {
      if (refused) return;
      refused = true;
      clearTimeout(startTimer);
      release();
      this.metrics.streamRefused(why);
      this.warnRefusal(
        `refused media stream${callSid ? ` for callSid=${callSid}` : ''}: ${reason}`,
      );
      socket.close(code, closeReason(reason));
      setTimeout(() => socket.terminate(), REFUSED_CLOSE_GRACE_MS).unref();
    };
    const drop = (reason: string) => {
      if (session) session.countDrop(reason);
      else if (++dropsBeforeSession <= MAX_LOGGED_DROPS) {
        this.warnRefusal(`dropped Twilio frame before start: ${reason}`);
      }
    };
    // A stream that has not proved itself in time is destroyed, not politely closed.
    const startTimer = setTimeout(() => {
      if (refused) return;
      refused = true;
      release();
      this.metrics.streamRefused('start_timeout');
      this.warnRefusal(
        `destroyed a media stream with no valid start within ${this.limits.streamStartTimeoutMs} ms`,
      );
      socket.terminate();
    }, this.limits.streamStartTimeoutMs);

    const start = async (frame: StartFrame) => {
      const { callSid } = frame.start;
      const refusal = this.refusalFor(frame);
      if (refusal) return refuse(refusal, 'unauthenticated', callSid);
      starting = true;
      // One stream per call, ever: a replayed `start` (a captured token used again) is refused.
      if (!(await this.replays.claimStream(callSid))) {
        return refuse('a stream for this call has already started', 'replay', callSid);
      }
      if (refused || socket.readyState !== socket.OPEN) return;
      if (holds === 'pending') {
        // Authenticated now: it leaves the pool and takes a call slot, if one is free.
        this.registry.removePending();
        holds = undefined;
        if (!this.registry.reserveSlot()) {
          return refuse(
            `${this.registry.maxConcurrentCalls} calls already active`,
            'no_capacity',
            callSid,
            1013,
          );
        }
        holds = 'slot';
      }
      // Cluster-wide admission (CLUSTER_MAX_CALLS): a lease, renewed while the call lives here.
      const { customParameters } = frame.start;
      const plan = await this.plans.claim(callSid);
      const admission = await this.directory.admit({
        callSid,
        instance: this.directory.instanceId,
        streamSid: frame.streamSid,
        from: customParameters.From,
        to: customParameters.To,
        profile: customParameters.profile,
        startedAt: new Date().toISOString(),
        direction: plan ? 'outbound' : 'inbound',
        transport: 'media',
      });
      if (!admission.ok) return refuse(admission.reason, 'no_capacity', callSid, 1013);
      leased = callSid;
      if (refused || socket.readyState !== socket.OPEN) return releaseLease();
      clearTimeout(startTimer);
      const created = await this.sessions.create({
        callSid,
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
      for (const queued of early.splice(0)) this.forward(session, queued, rate, socket);
    };

    const onMessage = (data: WebSocket.RawData, isBinary: boolean) => {
      if (refused) return;
      if (isBinary) return drop('binary frame (Twilio sends text)');
      const result = parseTwilioMessage(rawDataToBuffer(data));
      if (!result.ok) return drop(result.reason);
      const frame = result.frame;
      if (session) return this.forward(session, frame, rate, socket);
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
            release();
            releaseLease();
            socket.close(1011, 'internal error');
            setTimeout(() => socket.terminate(), REFUSED_CLOSE_GRACE_MS).unref();
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
    };
    // A throw in any handler ends this stream only, never the process or another call.
    const guarded =
      <A extends unknown[]>(what: string, handler: (...args: A) => void) =>
      (...args: A) => {
        try {
          handler(...args);
        } catch (error) {
          this.log.error(`internal error in media stream ${what}: ${(error as Error).stack}`);
          release();
          session?.close('internal error', 'warn', 'failed');
          socket.terminate();
        }
      };

    socket.on('message', guarded('message', onMessage));
    socket.on(
      'close',
      guarded('close', (code: number) => {
        clearTimeout(startTimer);
        release();
        releaseLease();
        const why = oversized
          ? 'Twilio frame over the 64 KiB limit'
          : `Twilio socket closed (${code})`;
        // In the call's scope, like every handler of the call (frames are, in handleTwilioFrame).
        const call = session;
        call?.scope.run(() =>
          call.close(why, oversized ? 'warn' : 'log', oversized ? 'refused' : 'completed'),
        );
      }),
    );
    socket.on(
      'error',
      guarded('error', (error: Error & { code?: string }) => {
        oversized ||= error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
        this.warnRefusal(
          `${session ? `[callSid=${session.context.callSid}] ` : ''}media stream socket error: ${error.message}`,
        );
      }),
    );
  }

  /**
   * A frame of a started call: only its own stream's, and caller audio at no more than real time
   * (plus a burst), so nobody can push more audio into a paid OpenAI session than a caller can.
   */
  private forward(
    session: CallOrchestrator,
    frame: TwilioInboundFrame,
    rate: MediaRateLimiter,
    socket: WebSocket,
  ): void {
    if ('streamSid' in frame && frame.streamSid !== session.context.streamSid) {
      session.countDrop(`${frame.event} for another streamSid`);
      return;
    }
    if (frame.event === 'media') {
      const verdict = rate.audio(frame.media.payload);
      if (verdict === 'drop') return session.countDrop('media faster than real time');
      if (verdict === 'close') {
        this.metrics.streamRefused('media_flood');
        session.countDrop('media faster than real time');
        // Our close code first: the session's own close would say 1000.
        socket.close(1008, 'media faster than real time');
        setTimeout(() => socket.terminate(), REFUSED_CLOSE_GRACE_MS).unref();
        session.close('Twilio stream kept sending media faster than real time', 'warn', 'refused');
        return;
      }
    } else if (frame.event === 'dtmf' && rate.keyPress() === 'drop') {
      return session.countDrop('key presses faster than a person types');
    }
    session.handleTwilioFrame(frame);
  }

  private warnRefusal(message: string): void {
    const line = this.refusals.line(message);
    if (line) this.log.warn(line);
  }

  /** Layer two: the per-call token from our TwiML, bound to this start's own CallSid. */
  private refusalFor(frame: StartFrame): string | undefined {
    const { callSid, accountSid, customParameters } = frame.start;
    if (this.registry.isDraining) return 'the bridge is shutting down';
    if (!isCallSid(callSid)) return 'start.callSid is not a Twilio call SID';
    if (!isAccountSid(accountSid)) return 'start.accountSid is not a Twilio account SID';
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
