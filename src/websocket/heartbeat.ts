import type WebSocket from 'ws';

/**
 * Pings a WebSocket peer every `intervalMs` and calls `onSilent` once when the peer answered
 * nothing (no pong, and nothing passed to `heard`) for a whole interval. A peer gone without a
 * close (a laptop off the network, a NAT or proxy that forgot the flow) is otherwise noticed
 * only when TCP gives up, minutes later, and whatever it held (a call's line, a session) with
 * it. `onSilent` decides what to do (typically terminate the socket). Stops with the socket.
 */
export class Heartbeat {
  private answered = true;
  private readonly timer: NodeJS.Timeout;

  constructor(socket: WebSocket, intervalMs: number, onSilent: (why: string) => void) {
    socket.on('pong', this.heard);
    this.timer = setInterval(() => {
      if (!this.answered) {
        this.stop();
        return onSilent(`no answer to a ping within ${intervalMs} ms`);
      }
      this.answered = false;
      socket.ping();
    }, intervalMs);
    this.timer.unref();
    socket.once('close', () => this.stop());
  }

  /** The peer sent something: it is alive (besides pongs, which count by themselves). */
  readonly heard = (): void => {
    this.answered = true;
  };

  stop(): void {
    clearInterval(this.timer);
  }
}
