import { randomUUID } from 'node:crypto';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { CallDirectory } from '../directory/call-directory.js';
import type { UpgradeVerdict } from '../websocket/upgrade-router.service.js';
import type { RemoteListenTarget } from './listen-access.js';
import { LISTEN_RELAY_MAX_SESSIONS } from './listen.constants.js';
import { RelaySession } from './relay-session.js';

export type RelayOpening =
  { ok: true; session: RelaySession } | Exclude<UpgradeVerdict, { ok: true }>;

/**
 * The asking side of the listen relay: a vetted listen upgrade for a call another instance
 * carries opens a RelaySession to that owner, at most LISTEN_RELAY_MAX_SESSIONS at once.
 */
@Injectable()
export class ListenRelayClient implements OnApplicationShutdown {
  private readonly sessions = new Set<RelaySession>();

  constructor(private readonly directory: CallDirectory) {
    // The owners are told while the bus can still carry it, whichever shutdown hook runs first.
    directory.channels()?.onClosing(() => this.onApplicationShutdown());
  }

  async open(target: RemoteListenTarget): Promise<RelayOpening> {
    const channels = this.directory.channels();
    if (!channels) return { ok: false, status: 503, message: 'no cluster bus to relay over' };
    if (this.sessions.size >= LISTEN_RELAY_MAX_SESSIONS) {
      return {
        ok: false,
        status: 503,
        message: `already ${LISTEN_RELAY_MAX_SESSIONS} relayed listen sessions on this instance`,
      };
    }
    const session = new RelaySession(channels, randomUUID(), target, () =>
      this.sessions.delete(session),
    );
    this.sessions.add(session);
    const verdict = await session.open();
    return verdict.ok ? { ok: true, session } : verdict;
  }

  onApplicationShutdown(): void {
    for (const session of this.sessions) session.shutdown();
  }
}
