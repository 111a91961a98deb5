import type { CallLogger } from '../call/call-logger.js';
import type { RealtimeClientEvent } from '../realtime/realtime-outbound.js';

/**
 * Client events held while one SIP call's sideband is down. An outage lasts seconds
 * (OPENAI_CONNECT_DEADLINE_MS) and what is held is a handful (one keypad turn per pause of the
 * caller, one output per running tool, an application's session changes). The bound also caps
 * what a call keeps in memory meanwhile: a tool output is at most 64 KiB, a session change at
 * most ~192 KiB (its instructions and every tool's definition), so ~6 MiB at the very worst.
 */
export const MAX_HELD_SIDEBAND_EVENTS = 32;

const HOLD = 'hold';

/**
 * The client events a sideband may carry, and what becomes of one sent while it is down: held and
 * sent once it reopens, or dropped for the reason given. The session lives on at OpenAI with the
 * call, and nothing re-seeds or re-configures it on a reopen: what changes its conversation or
 * its configuration is held, in the order sent; what acts on the moment it was sent is dropped.
 * The caller's audio reaches OpenAI over SIP, so `input_audio_buffer.*` is not here: the shared
 * parts send through the CallChannel type, which both transports implement, and SidebandLink
 * refuses anything this table does not name.
 */
const WHILE_DOWN = {
  // Tool outputs (their calls wait for them), the caller's key presses told as text: the
  // conversation itself, which the model would otherwise never see.
  'conversation.item.create': HOLD,
  // CallContext.updateSession (a tool, a hook): the call's settings have it, but a SIP session is
  // configured at accept only, so only this event carries it; held in order with the items, so an
  // output that came with it is answered under the new instructions.
  'session.update': HOLD,
  'response.create':
    'ResponseScheduler sends only while the sideband is open and asks again after its reset on the reopen: this would be a second ask',
  'response.cancel':
    'it names the response playing at the key press; the reopen forgets that response, and a late cancel would cut whatever plays then',
  // SIP and WebRTC only: stops what the server is still playing to the caller (a key press).
  'output_audio_buffer.clear':
    'it clears what was playing at the key press; sent late, it would cut what plays at the reopen',
} as const;

type SidebandEventType = keyof typeof WHILE_DOWN;

/** Whether a sideband carries events of this type at all. */
export function carriedBySideband(type: string): type is SidebandEventType {
  return Object.hasOwn(WHILE_DOWN, type);
}

/**
 * What a SIP call sent while its sideband was down, waiting for it to reopen: held by the rule
 * above, in order, each handed back once (release), up to MAX_HELD_SIDEBAND_EVENTS; past the
 * bound, later events are dropped so that what is held stays the first part of what was sent.
 * Freed when the call ends (clear).
 */
export class SidebandHold {
  private readonly held: RealtimeClientEvent[] = [];
  /** Held events past the bound in this outage, by type (for the warning at the reopen). */
  private readonly overflow = new Map<string, number>();

  constructor(private readonly log: Pick<CallLogger, 'warn' | 'debug'>) {}

  /** An event sent while the sideband is down: held for the reopen, or dropped (and why). */
  add(event: RealtimeClientEvent): void {
    const rule = WHILE_DOWN[event.type as SidebandEventType];
    if (rule !== HOLD) {
      this.log.debug(() => `${event.type} dropped while the sideband is down: ${rule}`);
      return;
    }
    if (this.held.length < MAX_HELD_SIDEBAND_EVENTS) {
      this.held.push(event);
      return;
    }
    if (this.overflow.size === 0) {
      this.log.warn(
        `sideband down with ${MAX_HELD_SIDEBAND_EVENTS} client events held (MAX_HELD_SIDEBAND_EVENTS): ` +
          `${event.type} and any more sent before it reopens are dropped, never reaching the model`,
      );
    }
    this.overflow.set(event.type, (this.overflow.get(event.type) ?? 0) + 1);
  }

  /** The sideband reopened: what was held, in order, to be sent now; the hold is empty after. */
  release(): RealtimeClientEvent[] {
    if (this.overflow.size > 0) {
      const lost = [...this.overflow].map(([type, count]) => `${count} ${type}`).join(', ');
      this.log.warn(
        `sideband reopened: sending the ${this.held.length} held client events; dropped over MAX_HELD_SIDEBAND_EVENTS: ${lost}`,
      );
      this.overflow.clear();
    }
    return this.held.splice(0);
  }

  /** The call ended: nothing held will be sent. */
  clear(): void {
    this.held.length = 0;
    this.overflow.clear();
  }
}
