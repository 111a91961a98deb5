import type WebSocket from 'ws';
import { Inject, Injectable } from '@nestjs/common';
import { CallPlans } from '../call/call-plans.service.js';
import { CallRegistry } from '../call/call-registry.service.js';
import { CallFactory } from './call.factory.js';
import type { CallOrchestrator } from './call-orchestrator.js';
import { CallDirectory } from '../directory/call-directory.js';
import { twilioConfig, type TwilioConfig } from '../config/config.namespaces.js';
import type { StreamRefusal } from '../metrics/bridge-metrics.service.js';
import type { StartFrame } from '../twilio/media-stream.messages.js';
import { isAccountSid, isCallSid } from '../twilio/sids.js';
import { StreamReplayMemory } from '../twilio/stream-replay-memory.js';
import { BOUND_STREAM_PARAMETERS, StreamTokenService } from '../twilio/stream-token.service.js';
import { TwilioSignatureService } from '../twilio/twilio-signature.service.js';

/** Custom parameters only the bridge itself reads; kept out of the call's context. */
const INTERNAL_PARAMETERS = new Set(['token']);

/** The stream whose authenticated `start` is being turned into a call. */
export interface StartingStream {
  /** The caller's media socket: the call is built with it. */
  socket(): WebSocket;
  /** False once the stream closed, timed out or was refused while the call was being set up. */
  wanted(): boolean;
  /** Hands the new call its early frames; called at once, while the call's slot is still held. */
  begin(call: CallOrchestrator): void;
}

export type StartOutcome =
  | { kind: 'started'; call: CallOrchestrator }
  | { kind: 'refused'; reason: string; why: StreamRefusal; code: 1008 | 1013 }
  /** The stream went away meanwhile; whatever had been taken for it is given back. */
  | { kind: 'abandoned' };

const ABANDONED: StartOutcome = { kind: 'abandoned' };

/**
 * Turns a stream's `start` into a call. Authenticate before you allocate: the call slot, the
 * cluster lease and the OpenAI session are taken only for a `start` whose token is valid for a
 * CallSid that has had no stream yet (the replay memory's claim), never for an upgrade alone.
 */
@Injectable()
export class StreamStarter {
  constructor(
    private readonly signatures: TwilioSignatureService,
    private readonly streamTokens: StreamTokenService,
    private readonly registry: CallRegistry,
    private readonly calls: CallFactory,
    private readonly replays: StreamReplayMemory,
    private readonly directory: CallDirectory,
    private readonly plans: CallPlans,
    @Inject(twilioConfig.KEY) private readonly twilioCfg: TwilioConfig,
  ) {}

  /** Layer two: the per-call token from our TwiML, bound to this start's own CallSid. */
  refusalFor(frame: StartFrame): string | undefined {
    const { callSid, accountSid, customParameters } = frame.start;
    if (this.registry.isDraining) return 'the bridge is shutting down';
    if (!isCallSid(callSid)) return 'start.callSid is not a Twilio call SID';
    if (!isAccountSid(accountSid)) return 'start.accountSid is not a Twilio account SID';
    if (this.signatures.enabled) {
      const verdict = this.streamTokens.verify(callSid, customParameters);
      if (verdict === 'mismatched') {
        return `start.customParameters (${BOUND_STREAM_PARAMETERS.join(', ')}) differ from what the stream token was issued for`;
      }
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

  /**
   * For a `start` that passed `refusalFor`: claims the call's one stream, then a call slot, a
   * cluster lease and the call itself. A throw gives back what was taken and propagates.
   */
  async start(frame: StartFrame, stream: StartingStream): Promise<StartOutcome> {
    const { callSid } = frame.start;
    // One stream per call, ever: a replayed `start` (a captured token used again), or a second
    // socket racing the first with the same token, is refused.
    if (!(await this.replays.claimStream(callSid))) {
      return refused('a stream for this call has already started', 'replay', 1008);
    }
    if (!stream.wanted()) return ABANDONED;
    if (!this.registry.reserveSlot()) {
      return refused(
        `${this.registry.maxConcurrentCalls} calls already active`,
        'no_capacity',
        1013,
      );
    }
    try {
      return await this.leaseAndCreate(frame, stream);
    } finally {
      // The call, if it began, is in the registry by now and counts there instead.
      this.registry.releaseSlot();
    }
  }

  private async leaseAndCreate(frame: StartFrame, stream: StartingStream): Promise<StartOutcome> {
    const { callSid, customParameters } = frame.start;
    const plan = await this.plans.claim(callSid);
    // Cluster-wide admission (CLUSTER_MAX_CALLS): a lease, renewed while the call lives here.
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
    if (!admission.ok) return refused(admission.reason, 'no_capacity', 1013);
    let began = false;
    try {
      if (!stream.wanted()) return ABANDONED;
      const call = await this.calls.create({
        callSid,
        streamSid: frame.streamSid,
        accountSid: frame.start.accountSid,
        customParameters: Object.fromEntries(
          Object.entries(customParameters).filter(([name]) => !INTERNAL_PARAMETERS.has(name)),
        ),
        socket: stream.socket(),
      });
      if (!stream.wanted()) return ABANDONED;
      stream.begin(call);
      began = true;
      return { kind: 'started', call };
    } finally {
      // A call that never began holds the lease alone; one that began releases it when it ends.
      if (!began) void this.directory.release(callSid);
    }
  }
}

function refused(reason: string, why: StreamRefusal, code: 1008 | 1013): StartOutcome {
  return { kind: 'refused', reason, why, code };
}
