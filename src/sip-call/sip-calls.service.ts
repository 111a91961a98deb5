import { Injectable, Logger } from '@nestjs/common';
import { ContextIdFactory, ModuleRef } from '@nestjs/core';
import { CallStart } from '../call/call-start.js';
import { CallDirectory } from '../directory/call-directory.js';
import { CallRegistry } from '../call/call-registry.service.js';
import { CallSettingsService } from '../call/call-settings.service.js';
import { OpenAICallsClient } from './openai-calls.client.js';
import { SipCall } from './sip-call.js';
import type { IncomingSipCall } from './sip-webhook.event.js';
import { SIP_BUSY } from './sip.constants.js';

/**
 * Takes an incoming SIP call from the webhook to a running SipCall: admission against the same
 * registry and MAX_CONCURRENT_CALLS as media calls (at capacity: `reject` 486; a repeat of a call
 * live or being admitted anywhere is ignored), the profile by the dialled number, and the call's
 * own DI context.
 */
@Injectable()
export class SipCallsService {
  private readonly log = new Logger('SipCalls');
  /** Call ids between their first delivery and their registration (or refusal) here. */
  private readonly admitting = new Set<string>();

  constructor(
    private readonly registry: CallRegistry,
    private readonly settings: CallSettingsService,
    private readonly calls: OpenAICallsClient,
    private readonly moduleRef: ModuleRef,
    private readonly directory: CallDirectory,
  ) {}

  /** Runs after the webhook has been answered; never rejects. */
  async admit(incoming: IncomingSipCall): Promise<void> {
    const { callId } = incoming;
    try {
      // A second delivery of the same call under another webhook-id, or a late one: OpenAI
      // sends the same call to any instance. Ignored, never rejected: a 486 for it would end a
      // call this or another instance is carrying (or about to accept).
      const refusal =
        this.registry.refusalFor(callId) ??
        (this.admitting.has(callId) ? 'its admission is under way' : undefined);
      if (refusal) {
        this.log.warn(`ignored realtime.call.incoming for ${callId}: ${refusal}`);
        return;
      }
      this.admitting.add(callId);
      try {
        await this.admitNew(incoming);
      } finally {
        this.admitting.delete(callId);
      }
    } catch (error) {
      this.log.error(`SIP call ${callId} could not be handled: ${(error as Error).message}`);
    }
  }

  /**
   * The cluster's lease first (CLUSTER_MAX_CALLS, the same a media call takes), since only it
   * knows whether the call is live on another instance; then this instance's slot. Only a
   * refusal for capacity rejects the call.
   */
  private async admitNew(incoming: IncomingSipCall): Promise<void> {
    const { callId } = incoming;
    const admission = await this.directory.admit({
      callSid: callId,
      instance: this.directory.instanceId,
      streamSid: callId,
      from: incoming.from,
      to: incoming.to,
      profile: this.settings.profileFor(undefined, incoming.to),
      startedAt: new Date().toISOString(),
      direction: 'inbound',
      transport: 'sip',
    });
    if (!admission.ok && admission.why === 'live') {
      this.log.warn(`ignored realtime.call.incoming for ${callId}: ${admission.reason}`);
      return;
    }
    if (!admission.ok) return this.reject(callId, admission.reason);
    if (!this.registry.reserveSlot()) {
      await this.directory.release(callId);
      return this.reject(callId, 'no call slot free');
    }
    let slotHeld = true;
    try {
      const call = await this.create(incoming);
      // start() registers the call before its first await; from then on the call counts in
      // the registry, so its slot goes back at once, not after the accept (one per call).
      const started = call.start();
      this.registry.releaseSlot();
      slotHeld = false;
      await started;
    } finally {
      if (slotHeld) this.registry.releaseSlot();
      // A call that never went live (accept refused) gives its lease back; a live one
      // gives it back when it leaves the registry.
      if (!this.registry.get(callId)) await this.directory.release(callId);
    }
  }

  private async reject(callId: string, reason: string): Promise<void> {
    this.log.warn(`rejected SIP call ${callId} (${SIP_BUSY} busy): ${reason}`);
    await this.calls.reject(callId, SIP_BUSY);
  }

  private async create(incoming: IncomingSipCall): Promise<SipCall> {
    const contextId = ContextIdFactory.create();
    const profile = this.settings.profileFor(undefined, incoming.to);
    const parameters: Record<string, string> = {};
    if (incoming.from) parameters.From = incoming.from;
    if (incoming.to) parameters.To = incoming.to;
    if (profile) parameters.profile = profile;
    if (incoming.sipCallId) parameters.SipCallId = incoming.sipCallId;
    const call = new CallStart(contextId, {
      callSid: incoming.callId,
      // A SIP call has no media stream; the sideband is addressed by the call id.
      streamSid: incoming.callId,
      accountSid: '',
      customParameters: parameters,
      transport: 'sip',
    });
    this.moduleRef.registerRequestByContextId(call, contextId);
    return this.moduleRef.resolve(SipCall, contextId, { strict: false });
  }
}
