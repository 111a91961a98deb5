import {
  BadRequestException,
  Controller,
  Get,
  HttpException,
  HttpStatus,
  NotFoundException,
  Param,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { CallTransport } from '../call/call-context.js';
import { CallRegistry } from '../call/call-registry.service.js';
import { isCallId } from '../call-control/call-control.rules.js';
import { CallDirectory } from '../directory/call-directory.js';
import { ApiTokenGuard } from '../http/api-token.guard.js';
import { CallEventFollowers } from './call-event-followers.service.js';
import { CallEventHistory } from './call-event-history.service.js';
import { StreamRelayClient } from '../stream-relay/stream-relay-client.service.js';

/** A live call of the cluster, whichever instance (`instance`) carries it. */
export interface ActiveCall {
  callSid: string;
  instance: string;
  /** `media` (Twilio Media Streams) or `sip` (OpenAI SIP). */
  transport: CallTransport;
  from?: string;
  to?: string;
  startedAt: string;
  direction: 'inbound' | 'outbound';
  streamSid?: string;
  profile?: string;
  durationS: number;
}

/**
 * The calls of the cluster for applications: list them, and follow one's events. (Placing,
 * hanging up and transferring: call-control/call-control.controller.ts, on the same path.)
 */
@ApiTags('calls')
@ApiBearerAuth()
@Controller('api/calls')
@UseGuards(ApiTokenGuard)
export class CallsController {
  constructor(
    private readonly registry: CallRegistry,
    private readonly followers: CallEventFollowers,
    private readonly history: CallEventHistory,
    private readonly directory: CallDirectory,
    private readonly relays: StreamRelayClient,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The calls in progress, on every instance of the cluster' })
  async list(): Promise<{ calls: ActiveCall[]; partial?: true }> {
    const now = Date.now();
    const { calls, partial } = await this.directory.listing();
    return {
      calls: calls.map((call) => ({
        callSid: call.callSid,
        instance: call.instance,
        from: call.from,
        to: call.to,
        startedAt: call.startedAt,
        direction: call.direction,
        transport: call.transport ?? 'media',
        streamSid: call.streamSid,
        profile: call.profile,
        durationS: Math.max(0, Math.round((now - Date.parse(call.startedAt)) / 1000)),
      })),
      // Only this instance's calls: the cluster's shared store could not be read.
      ...(partial ? { partial: true as const } : {}),
    };
  }

  /**
   * The call's events so far, then as they happen (server-sent events), until it ends or
   * SSE_MAX_DURATION_S; 404 for a call that is neither live nor recently ended, 429 beyond the
   * follower limits.
   */
  @Get(':callSid/events')
  @ApiOperation({ summary: "A call's events (call.*) as server-sent events, until call.ended" })
  async followEvents(@Param('callSid') callSid: string, @Res() res: Response): Promise<void> {
    this.validSid(callSid);
    // Live here, or on another instance (cluster mode), whose events are relayed from it.
    const here = this.registry.get(callSid) !== undefined;
    const elsewhere = here ? undefined : await this.directory.get(callSid);
    if (!here && !elsewhere) {
      const recent = await this.directory.recentRecords();
      if (this.registry.recentlyEnded(callSid) || recent.some((r) => r.callSid === callSid)) {
        return this.followers.ended(res, this.history.of(callSid));
      }
      throw new NotFoundException(`no live or recently ended call ${callSid}`);
    }
    this.assertRoom(callSid);
    const owner = elsewhere?.instance;
    if (owner && owner !== this.directory.instanceId) {
      if (await this.followOnOwner(owner, callSid, res)) return;
      // Others may have started following while the owner answered.
      this.assertRoom(callSid);
    }
    // What already happened first (a follower that connects after the first transcript still
    // sees it), then live: both in this tick, so nothing is missed or doubled (events are
    // emitted synchronously).
    this.followers.follow(callSid, res, this.history.of(callSid));
  }

  /**
   * A call another instance carries, followed there and relayed here: its events so far too.
   * False when its owner cannot relay (a version before the relay, during a rollout): the call
   * is then followed through the bus from now on.
   */
  private async followOnOwner(owner: string, callSid: string, res: Response): Promise<boolean> {
    const opening = await this.relays.open('call-events', owner, callSid);
    if (!opening.ok) {
      // The owner refused for its own bounds (429): so does this route.
      if (opening.status === 429) throw new HttpException(opening.message, 429);
      return false;
    }
    // The client may have gone, or others have taken the room, while the owner answered.
    if (!res.socket || res.socket.destroyed) {
      opening.relay.close();
      return true;
    }
    try {
      this.assertRoom(callSid);
    } catch (refused) {
      opening.relay.close();
      throw refused;
    }
    const stream = this.followers.openFollowing(res);
    this.followers.trackRelayed(callSid, stream);
    opening.relay.attach(stream);
    return true;
  }

  /** 429 when this instance's follower bounds leave no room for one more of this call. */
  private assertRoom(callSid: string): void {
    const refusal = this.followers.refusalFor(callSid);
    if (!refusal) return;
    throw new HttpException(
      refusal === 'too_many'
        ? 'too many event followers (MAX_SSE_FOLLOWERS)'
        : 'too many event followers for this call (MAX_SSE_FOLLOWERS_PER_CALL)',
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }

  private validSid(callSid: string): string {
    // A media call is a Twilio CallSid; a SIP call is OpenAI's call id (`rtc_...`).
    if (isCallId(callSid)) return callSid;
    throw new BadRequestException('not a call id (a Twilio CallSid CA + 32 hex, or rtc_...)');
  }
}
