import type { RealtimeItemSummary } from '../realtime/realtime-items.js';
import type { RealtimeClientEvent } from '../realtime/realtime-outbound.js';
import type { TranscriptTurn } from './call-context.js';
import { reseedEventsOf, turnOf, type Entry } from './conversation-entries.js';

export { cutAtWord } from './conversation-entries.js';

/** What a caller turn the transcription could not make out is remembered as. */
export const INAUDIBLE = '[inaudible]';
/**
 * Items remembered per call (oldest forgotten first): a re-seed replays them all, and a long
 * call should not grow without bound.
 */
export const MAX_REMEMBERED_ITEMS = 400;

/**
 * The conversation as the caller lived it, in the conversation's own order: the server's
 * `previous_item_id` places each item (caller transcriptions complete late, after the answer has
 * begun, so arrival order is not conversation order). Assistant turns keep only what the caller
 * heard (cut at a word boundary when interrupted), a caller turn whose transcription failed is
 * kept as `[inaudible]`, key presses and tool calls with their outputs are turns too. The re-seed
 * of a new session, the `call.transcript` events and the call record all read it.
 */
export class ConversationMemory {
  private readonly entries = new Map<string, Entry>();
  private order: string[] = [];
  private localSequence = 0;
  private forgotten = 0;
  /** The caller's latest `speech_started`, until its turn's item exists. */
  private speechStart?: { itemId: string; at: Date };

  /**
   * `onTurn` is called once per turn, when its text is final (the `call.transcript` event).
   * `audioSeen`: the bridge plays the assistant's audio itself (media calls), so an item with no
   * audio has nothing left to hear; on SIP the server plays it, and a turn is final only when
   * the transport reports it heard (assistantHeard) or cut (assistantCut).
   */
  constructor(
    private readonly onTurn: (turn: TranscriptTurn) => void = () => undefined,
    private readonly audioSeen = true,
  ) {}

  /** A server event placed an item: `previous_item_id` says where. */
  placeItem(item: RealtimeItemSummary, previousItemId?: string | null): void {
    let entry = this.entries.get(item.id);
    if (!entry) {
      entry = this.entryFor(item);
      if (!entry) return;
      this.entries.set(item.id, entry);
    }
    this.place(item.id, previousItemId);
    // `added` comes as generation starts (arguments still empty), `done` with them complete.
    if (entry.kind === 'tool' && item.arguments) entry.arguments = item.arguments;
    if (entry.kind === 'assistant' && item.text && !entry.text)
      this.assistantText(item.id, item.text);
    if (entry.kind === 'caller' && item.text && !entry.text) this.callerText(item.id, item.text);
  }

  /**
   * `input_audio_buffer.speech_started`: the caller began the turn that will be `itemId`. The
   * turn is dated from here, where its words start (a recording is sought there), not from its
   * commit, which comes after the words and the silence that ended them.
   */
  callerSpeechStarted(itemId: string | undefined): void {
    if (itemId) this.speechStart = { itemId, at: new Date() };
  }

  /** `input_audio_buffer.committed`: the caller's turn exists, its words come later. */
  callerCommitted(itemId: string, previousItemId?: string | null): void {
    this.placeItem({ id: itemId, type: 'message', role: 'user' }, previousItemId);
  }

  callerText(itemId: string, text: string): void {
    const entry = this.ensure(itemId, 'caller');
    if (entry.kind !== 'caller' || entry.text !== undefined) return;
    entry.text = text;
    this.report(entry);
  }

  callerInaudible(itemId: string): void {
    const entry = this.ensure(itemId, 'caller');
    if (entry.kind !== 'caller' || entry.text !== undefined) return;
    entry.inaudible = true;
    entry.text = INAUDIBLE;
    this.report(entry);
  }

  /** Audio of an assistant item arrived (played or not): its transcript spans all of it. */
  assistantAudio(itemId: string, ms: number): void {
    const entry = this.entries.get(itemId) ?? this.ensure(itemId, 'assistant');
    if (entry.kind === 'assistant') entry.audioMs += ms;
  }

  assistantText(itemId: string, text: string): void {
    const entry = this.ensure(itemId, 'assistant');
    if (entry.kind !== 'assistant') return;
    entry.text = text;
    // An item with no audio at all (a text-only answer) has nothing left to hear: it stands as is.
    const silent = this.audioSeen && entry.audioMs === 0;
    if (entry.heard || entry.heardMs !== undefined || silent) this.report(entry);
  }

  /** The caller heard the item to its end (its final mark echoed; on SIP, the server's word). */
  assistantHeard(itemId: string): void {
    const entry = this.ensure(itemId, 'assistant');
    if (entry?.kind !== 'assistant' || entry.heardMs !== undefined) return;
    entry.heard = true;
    if (entry.text !== undefined) this.report(entry);
  }

  /** The caller cut the item short after `heardMs` (ours, or the server's `truncated`). */
  assistantCut(itemId: string, heardMs: number): void {
    const entry = this.entries.get(itemId);
    if (entry?.kind !== 'assistant' || entry.heard) return;
    entry.heardMs = heardMs;
    if (entry.text !== undefined) this.report(entry);
  }

  /**
   * Audio of the item was dropped, never played (its response interrupted or cancelled, an
   * operator on the line): unless some of it was heard, none was.
   */
  assistantUnheard(itemId: string): void {
    const entry = this.ensure(itemId, 'assistant');
    if (entry.kind !== 'assistant' || entry.heard || entry.heardMs !== undefined) return;
    entry.heardMs = 0;
    if (entry.text !== undefined) this.report(entry);
  }

  /** A key-press message the bridge adds; returns the item id to create it with. */
  addKeypad(text: string): string {
    const id = this.localId('kp');
    this.entries.set(id, { kind: 'keypad', id, at: new Date(), text });
    this.order.push(id);
    this.trim();
    this.report(this.entries.get(id)!);
    return id;
  }

  /**
   * A system message the bridge adds (a handback); returns the item id to create it with. It is
   * re-seeded like any turn, so a session opened later (or one that was not open when it was
   * sent) knows it too.
   */
  addSystem(text: string): string {
    const id = this.localId('sys');
    this.entries.set(id, { kind: 'system', id, at: new Date(), text });
    this.order.push(id);
    this.trim();
    return id;
  }

  toolCall(call: { callId: string; name: string; arguments: string }, itemId?: string): void {
    const known = this.findTool(call.callId);
    if (known) {
      known.arguments = call.arguments;
      known.complete = true;
      return;
    }
    const id = itemId ?? this.localId('fc');
    this.entries.set(id, { kind: 'tool', id, at: new Date(), ...call, complete: true });
    this.place(id, undefined);
  }

  /** The output the bridge sends for a call; returns the item id to create it with. */
  toolOutput(callId: string, output: string): string {
    const entry = this.findTool(callId);
    const id = this.localId('fo');
    if (entry) {
      entry.output = output;
      entry.outputId = id;
      this.report(entry);
    }
    return id;
  }

  /**
   * Final turns forgotten to stay within MAX_REMEMBERED_ITEMS: the oldest, said before the
   * first of turns(). A long call's record says how many it lacks.
   */
  get forgottenTurns(): number {
    return this.forgotten;
  }

  /** Final turns so far, in conversation order. */
  turns(): TranscriptTurn[] {
    const turns: TranscriptTurn[] = [];
    for (const id of this.order) {
      const turn = turnOf(this.entries.get(id)!);
      if (turn) turns.push(turn);
    }
    return turns;
  }

  /** Client events that rebuild the conversation in a new session (see reseedEventsOf). */
  reseedEvents(): RealtimeClientEvent[] {
    return reseedEventsOf(this.order.map((id) => this.entries.get(id)!));
  }

  /** At the end of the call: assistant turns still playing are reported as they stand. */
  flush(): void {
    for (const entry of this.entries.values()) {
      if (entry.kind === 'assistant' && entry.text !== undefined) this.report(entry);
    }
  }

  private report(entry: Entry): void {
    if (entry.kind === 'assistant') {
      if (entry.reported) return;
      entry.reported = true;
    }
    const turn = turnOf(entry);
    if (turn) this.onTurn(turn);
  }

  private entryFor(item: RealtimeItemSummary): Entry | undefined {
    const at = new Date();
    if (item.type === 'message' && item.role === 'user') {
      return { kind: 'caller', id: item.id, at: this.callerStartedAt(item.id) ?? at };
    }
    if (item.type === 'message' && item.role === 'assistant') {
      return { kind: 'assistant', id: item.id, at, audioMs: 0 };
    }
    if (item.type === 'function_call' && item.call_id && item.name) {
      const existing = this.findTool(item.call_id);
      if (existing) return undefined;
      return {
        kind: 'tool',
        id: item.id,
        at,
        callId: item.call_id,
        name: item.name,
        arguments: item.arguments ?? '{}',
      };
    }
    // System messages, outputs we created ourselves, MCP items: nothing to remember.
    return undefined;
  }

  /** When the caller began turn `itemId`, if the server said so (taken once). */
  private callerStartedAt(itemId: string): Date | undefined {
    const start = this.speechStart;
    if (start?.itemId !== itemId) return undefined;
    this.speechStart = undefined;
    return start.at;
  }

  /** The entry for an id, made (at the end of the conversation) if no event placed it yet. */
  private ensure(itemId: string, kind: 'caller' | 'assistant'): Entry {
    const known = this.entries.get(itemId);
    if (known) return known;
    const entry: Entry =
      kind === 'caller'
        ? { kind, id: itemId, at: this.callerStartedAt(itemId) ?? new Date() }
        : { kind, id: itemId, at: new Date(), audioMs: 0 };
    this.entries.set(itemId, entry);
    this.place(itemId, undefined);
    return entry;
  }

  /** Puts `id` right after `previousItemId` when that is known; else keeps or appends it. */
  private place(id: string, previousItemId: string | null | undefined): void {
    const at = this.order.indexOf(id);
    if (previousItemId && this.entries.has(previousItemId) && previousItemId !== id) {
      if (at >= 0 && this.order[at - 1] === previousItemId) return;
      if (at >= 0) this.order.splice(at, 1);
      this.order.splice(this.order.indexOf(previousItemId) + 1, 0, id);
    } else if (at < 0) {
      this.order.push(id);
    }
    this.trim();
  }

  private trim(): void {
    while (this.order.length > MAX_REMEMBERED_ITEMS) {
      const id = this.order.shift()!;
      if (turnOf(this.entries.get(id)!)) this.forgotten++;
      this.entries.delete(id);
    }
  }

  private findTool(callId: string): Extract<Entry, { kind: 'tool' }> | undefined {
    for (const entry of this.entries.values()) {
      if (entry.kind === 'tool' && entry.callId === callId) return entry;
    }
    return undefined;
  }

  private localId(prefix: string): string {
    return `${prefix}_bridge_${++this.localSequence}`;
  }
}
