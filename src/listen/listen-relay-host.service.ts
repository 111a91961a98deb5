import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CallDirectory } from '../directory/call-directory.js';
import type { ClusterChannels } from '../directory/cluster-channels.js';
import { redisKeys } from '../directory/redis-keys.js';
import { SeenIds } from '../directory/seen-ids.js';
import { ListenAccess } from './listen-access.js';
import { ListenHub } from './listen-hub.service.js';
import { relayOpenSchema, type RelayDown, type RelayOpen } from './listen-relay.messages.js';
import { LISTEN_RELAY_MAX_SEEN_OPENS, LISTEN_RELAY_MAX_SESSIONS } from './listen.constants.js';
import { RelayedSocket } from './relayed-socket.js';

/**
 * The owner's side of the listen relay (cluster mode): open requests from other instances on
 * `bridge:listen:<INSTANCE_ID>`, each vetted like a local upgrade after the asking instance
 * checked the operator's credentials (a live media call, MAX_LISTENERS_PER_CALL counting local
 * and relayed listeners alike), then a ListenSocket on a RelayedSocket: the same frames, client
 * bounds, takeover and handback as a local listener, named after the operator it was opened for.
 */
@Injectable()
export class ListenRelayHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('ListenRelay');
  private readonly sessions = new Set<RelayedSocket>();
  private readonly seen = new SeenIds(LISTEN_RELAY_MAX_SEEN_OPENS);
  private unsubscribe?: () => void;

  constructor(
    private readonly directory: CallDirectory,
    private readonly access: ListenAccess,
    private readonly hub: ListenHub,
  ) {
    // The askers are told while the bus can still carry it, whichever shutdown hook runs first.
    directory.channels()?.onClosing(() => this.onApplicationShutdown());
  }

  async onApplicationBootstrap(): Promise<void> {
    const channels = this.directory.channels();
    if (!channels) return;
    const channel = redisKeys.listenOpen(channels.instanceId);
    this.unsubscribe = await channels.subscribe(channel, (raw) => {
      const open = channels.open(channel, raw, relayOpenSchema);
      if (!open) return;
      // A captured open request, sent again, opens nothing (its session is taken anyway).
      if (!this.seen.firstTime(open.session)) return channels.replayed(channel);
      this.accept(channels, open).catch((error: Error) =>
        this.log.warn(`relay session for ${open.callSid} failed: ${error.message}`),
      );
    });
  }

  onApplicationShutdown(): void {
    this.unsubscribe?.();
    for (const session of this.sessions) session.close(1001, 'instance shutting down');
  }

  private async accept(channels: ClusterChannels, open: RelayOpen): Promise<void> {
    const down = redisKeys.listenDown(open.session);
    const refuse = async (status: number, message: string) => {
      const refused: RelayDown = { type: 'refused', seq: 0, status, message };
      await channels.publish(down, refused);
    };
    if (this.sessions.size >= LISTEN_RELAY_MAX_SESSIONS) {
      return refuse(503, `already ${LISTEN_RELAY_MAX_SESSIONS} relayed listen sessions here`);
    }
    const verdict = this.access.vetLocal(
      open.callSid,
      open.operator,
      this.hub.count,
      open.consoleSession,
    );
    if (!verdict.ok) return refuse(verdict.status, verdict.message);
    const socket = new RelayedSocket(channels, open.session);
    this.sessions.add(socket);
    socket.on('close', () => this.sessions.delete(socket));
    try {
      await socket.open();
    } catch (error) {
      socket.terminate();
      throw error;
    }
    // A call that ended meanwhile answers `stop` at once (its tap has ended).
    this.hub.accept(socket, verdict.target, open.from);
  }
}
