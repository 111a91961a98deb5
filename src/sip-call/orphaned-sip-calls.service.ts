import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { CallDirectory, type LiveCall } from '../directory/call-directory.js';
import { SIP_LINE_ORPHAN_GRACE_MS } from '../directory/cluster.constants.js';
import { openaiConfig, type OpenAIConfig } from '../config/config.namespaces.js';
import { CallEventBus } from '../events/call-event-bus.js';
import { HistoryEvent } from '../history/history.constants.js';
import type { LostCall } from '../history/history-record.js';
import { OpenAICallsApiError, OpenAICallsClient } from './openai-calls.client.js';

/**
 * Hangs up the SIP calls of an instance that is gone, and those whose hang-up failed or was cut
 * short (cluster mode; CallDirectory finds their lines unheld), and those of a predecessor
 * process the history found lost (one instance, restarted after it was killed).
 * OpenAI would otherwise keep such a call up on its own, with no one to answer its tools, keep
 * its time limit or record it, for up to the Realtime session's hour: the same rule as at
 * shutdown, where a SIP call still live is hung up rather than left talking. Only instances
 * that take SIP calls (OPENAI_WEBHOOK_SECRET) look after the others' lines.
 */
@Injectable()
export class OrphanedSipCalls implements OnModuleInit {
  private readonly log = new Logger('SipCalls');

  constructor(
    private readonly directory: CallDirectory,
    private readonly calls: OpenAICallsClient,
    @Inject(openaiConfig.KEY) private readonly openai: OpenAIConfig,
    private readonly events: CallEventBus,
  ) {}

  onModuleInit(): void {
    if (!this.openai.webhookSecret) return;
    this.directory.onOrphanedLine((call) => this.hangUp(call));
    this.events.on(HistoryEvent.CallLost, (call: LostCall) => void this.hangUpLost(call));
  }

  /** A line no one holds (Redis). Never rejects: the outcome is logged. */
  hangUp(call: LiveCall): Promise<void> {
    return this.hangUpOrphan(
      call.callSid,
      call.instance === this.directory.instanceId
        ? `SIP call ${call.callSid} ended here, or in an earlier process named ${call.instance}, ` +
            'without OpenAI confirming its line down'
        : `SIP call ${call.callSid} lost its instance ${call.instance} ` +
            `(no heartbeat for its line in over ${SIP_LINE_ORPHAN_GRACE_MS / 1000} s)`,
    );
  }

  /**
   * A call the history found lost. Only a predecessor's: that process is certainly gone, while
   * a call merely unseen may be carried by an instance cut off from the database (the lines,
   * with Redis, decide those). Never rejects.
   */
  async hangUpLost(call: LostCall): Promise<void> {
    if (call.transport !== 'sip' || !call.predecessor) return;
    await this.hangUpOrphan(
      call.callSid,
      `SIP call ${call.callSid} was lost with an earlier process of this instance (${call.owner})`,
    );
  }

  private async hangUpOrphan(callSid: string, lost: string): Promise<void> {
    try {
      await this.calls.hangup(callSid);
      this.log.warn(`${lost}: hung up, so the caller is not left with an assistant no one runs`);
    } catch (error) {
      if (error instanceof OpenAICallsApiError && error.status === 404) {
        this.log.log(`${lost}: the call had already ended`);
      } else {
        this.log.error(`${lost}: the hang-up failed: ${(error as Error).message}`);
      }
    }
  }
}
