import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { limitsConfig, type LimitsConfig } from '../config/config.namespaces.js';
import { ConsoleSessions } from '../console/console-sessions.service.js';
import { LogThrottle } from '../logging/log-throttle.js';
import type { ListenTarget } from './listen-access.js';
import { ListenSocket, type ListenGroup, type ListenPeer } from './listen-socket.js';

/** Lines a second (and burst) about dropped listeners: a client decides how many there are. */
const WARN_LINES_PER_S = 10;
const WARN_BURST = 50;

/**
 * The listen sockets of this instance, by call: how many a call has (MAX_LISTENERS_PER_CALL is
 * checked against it at the upgrade), and the group each belongs to, so that every listener of
 * a call hears who took the line and who handed it back.
 */
@Injectable()
export class ListenHub implements OnApplicationShutdown {
  private readonly log = new Logger('Listen');
  private readonly warnings = new LogThrottle(WARN_LINES_PER_S, WARN_BURST);
  private readonly calls = new Map<string, Set<ListenSocket>>();

  constructor(
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
    private readonly sessions: ConsoleSessions,
  ) {}

  readonly count = (callSid: string): number => this.calls.get(callSid)?.size ?? 0;

  /** A vetted listener joins its call, room permitting (`via`: the instance it was opened on). */
  accept(socket: ListenPeer, target: ListenTarget, via?: string): void {
    // Two upgrades vetted at once may both have seen room for one more listener.
    if (this.count(target.callSid) >= this.limits.maxListenersPerCall) {
      socket.close(1013, 'too many listeners on this call');
      return;
    }
    let listeners = this.calls.get(target.callSid);
    if (!listeners) {
      listeners = new Set();
      this.calls.set(target.callSid, listeners);
    }
    const group: ListenGroup = {
      broadcast: (frame) => {
        for (const listener of this.calls.get(target.callSid) ?? []) listener.send(frame);
      },
      leave: (listener) => {
        const current = this.calls.get(target.callSid);
        current?.delete(listener);
        if (current?.size === 0) this.calls.delete(target.callSid);
      },
      warn: (message) => {
        const line = this.warnings.line(message);
        if (line) this.log.warn(line);
      },
    };
    const listener = new ListenSocket(socket, target, group, this.sessions);
    listeners.add(listener);
    const relayed = via ? ` through instance ${via}` : '';
    this.log.log(
      `${target.operator} listens to ${target.callSid}${relayed} (${listeners.size} listening)`,
    );
    listener.start();
  }

  onApplicationShutdown(): void {
    this.calls.clear();
  }
}
