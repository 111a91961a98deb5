import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { CallAudioTaps } from '../call-audio/call-audio-taps.service.js';
import type { CallAudioTap } from '../call-audio/call-audio-tap.js';
import { CallRegistry } from '../call/call-registry.service.js';
import { isCallId } from '../call-control/call-control.rules.js';
import { callControlConfig, limitsConfig, serverConfig } from '../config/config.namespaces.js';
import type { CallControlConfig, LimitsConfig, ServerConfig } from '../config/config.namespaces.js';
import { consoleRequester, SESSIONS_UNAVAILABLE } from '../console/console-auth.guard.js';
import { fromConsoleOrigin } from '../console/console-origin.js';
import { ConsoleSessions } from '../console/console-sessions.service.js';
import { CallDirectory } from '../directory/call-directory.js';
import { apiTokenRefusal } from '../http/api-token.guard.js';
import { clientAddress } from '../http/client-address.js';
import { RefusalLog } from '../logging/refusal-log.js';
import type { Takeover } from '../media-call/takeover.js';
import { Takeovers } from '../media-call/takeovers.service.js';

/** The reason a SIP call cannot be listened to (409). */
export const SIP_NOT_LISTENABLE =
  "listening and takeover are for media-stream calls: a SIP call's audio never passes through the bridge";

/** A live media call of this instance that an operator may hear and take over. */
export interface ListenTarget {
  callSid: string;
  /** Who listens: `console:<digest>` or `api`. */
  operator: string;
  /** The console session's key (none for the API token): the socket ends with the session. */
  session?: string;
  tap: CallAudioTap;
  takeover: Takeover;
}

/** A media call carried by another instance of the cluster: its socket is relayed there. */
export interface RemoteListenTarget {
  callSid: string;
  operator: string;
  session?: string;
  /** INSTANCE_ID of the owner. */
  instance: string;
}

export type ListenRefusal = { ok: false; status: number; message: string };
export type LocalListenVerdict = { ok: true; target: ListenTarget } | ListenRefusal;
export type ListenVerdict = LocalListenVerdict | { ok: true; remote: RemoteListenTarget };

/**
 * Vets a listen upgrade before any WebSocket exists, in the contract's order: credentials (401;
 * the console's also its Origin, 403), a well-formed call id (400), a live call (404), a media
 * call (409 for SIP), and room for one more listener (429). Each refusal is an HTTP answer. A
 * media call of another instance is relayed there (the owner vets it again: `vetLocal`).
 */
@Injectable()
export class ListenAccess {
  private readonly refusals = new RefusalLog('Listen');

  constructor(
    private readonly registry: CallRegistry,
    private readonly taps: CallAudioTaps,
    private readonly takeovers: Takeovers,
    private readonly sessions: ConsoleSessions,
    private readonly directory: CallDirectory,
    @Inject(callControlConfig.KEY) private readonly cfg: CallControlConfig,
    @Inject(serverConfig.KEY) private readonly server: ServerConfig,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
  ) {}

  async vet(
    req: IncomingMessage,
    kind: 'api' | 'console',
    callSid: string,
    listeners: (callSid: string) => number,
  ): Promise<ListenVerdict> {
    // Without an API_TOKEN the route does not exist, like every authenticated one.
    const token = this.cfg.apiToken;
    if (!token) return refusal(404, 'Not Found');
    let operator: string;
    let session: string | undefined;
    if (kind === 'api') {
      const refused = apiTokenRefusal(req.headers.authorization, token);
      if (refused !== undefined) return this.refuse(req, kind, 401, 'Unauthorized', refused);
      operator = 'api';
    } else {
      const who = await consoleRequester(req.headers, this.sessions, token);
      if (!who.ok && who.unavailable) {
        return this.refuse(req, kind, 503, SESSIONS_UNAVAILABLE, 'console sessions unavailable');
      }
      if (!who.ok) return this.refuse(req, kind, 401, 'Unauthorized', 'no console session');
      if (!fromConsoleOrigin(req, this.server)) {
        return this.refuse(req, kind, 403, 'Forbidden', 'Origin is not the console');
      }
      operator = who.operator;
      session = who.session?.key;
    }
    if (!isCallId(callSid)) return refusal(400, 'malformed call id');
    if (!this.registry.get(callSid)) return this.elsewhere(callSid, operator, session);
    return this.vetLocal(callSid, operator, listeners, session);
  }

  /**
   * A call of this instance, for an operator already authenticated (here, or by the instance
   * that relays the socket): a live media call (404, 409 for SIP) with room for one more (429).
   */
  vetLocal(
    callSid: string,
    operator: string,
    listeners: (callSid: string) => number,
    session?: string,
  ): LocalListenVerdict {
    const call = this.registry.get(callSid);
    if (!call) return refusal(404, 'no such live call');
    if (call.context.transport === 'sip') return refusal(409, SIP_NOT_LISTENABLE);
    const tap = this.taps.tapOf(callSid);
    const takeover = this.takeovers.of(callSid);
    if (!tap || !takeover) return refusal(404, 'no such live call');
    if (listeners(callSid) >= this.limits.maxListenersPerCall) {
      return refusal(429, `already ${this.limits.maxListenersPerCall} listeners on this call`);
    }
    return { ok: true, target: { callSid, operator, session, tap, takeover } };
  }

  /**
   * A call this instance does not carry: unknown (404), a SIP call (409), or, in cluster mode, a
   * media call on another instance, whose socket is relayed over the bus to its owner.
   */
  private async elsewhere(
    callSid: string,
    operator: string,
    session: string | undefined,
  ): Promise<ListenVerdict> {
    const remote = await this.directory.get(callSid).catch(() => undefined);
    if (!remote || remote.instance === this.directory.instanceId) {
      return refusal(404, 'no such live call');
    }
    if (remote.transport === 'sip') return refusal(409, SIP_NOT_LISTENABLE);
    return { ok: true, remote: { callSid, operator, session, instance: remote.instance } };
  }

  private refuse(req: IncomingMessage, kind: string, status: number, message: string, why: string) {
    const from = clientAddress(req, this.server.trustProxy);
    this.refusals.warn(`refused ${kind} listen upgrade from ${from}: ${why}`);
    return refusal(status, message);
  }
}

function refusal(status: number, message: string): ListenRefusal {
  return { ok: false, status, message };
}
