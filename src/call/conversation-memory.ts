import type { RealtimeItemSummary } from '../realtime/realtime-items.js';
import {
  realtimeOutbound,
  type RealtimeClientEvent,
  type RealtimeItem,
} from '../realtime/realtime-outbound.js';
import type { TranscriptTurn } from './call-context.js';

/** What a caller turn the transcription could not make out is remembered as. */
export const INAUDIBLE = '[inaudible]';
/**
 * Items remembered per call (oldest forgotten first): a re-seed replays them all, and a long
 * call should not grow without bound.
 */
export const MAX_REMEMBERED_ITEMS = 400;

type Entry =
  | { kind: 'caller'; id: string; at: Date; text?: string; inaudible?: boolean }
  | {
      kind: 'assistant';
      id: string;
      at: Date;
      text?: string;
      /** Audio the model produced for it, in ms (what its transcript spans). */
      audioMs: number;
      /** Set when the caller cut it short: the ms they heard. */
      heardMs?: number;
      /** Heard to the end (its final mark echoed). */
      heard?: boolean;
      reported?: boolean;
    }
  | { kind: 'keypad'; id: string; at: Date; text: string }
  | {
      kind: 'tool';
      id: string;
      at: Date;
      callId: string;
      name: string;
      arguments: string;
      output?: string;
      outputId?: string;
    };

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

  /** Called once per turn, when its text is final (the `call.transcript` event). */
  constructor(private readonly onTurn: (turn: TranscriptTurn) => void = () => undefined) {}

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
    if (entry.heard || entry.heardMs !== undefined) this.report(entry);
  }

  /** The caller heard the item to its end. */
  assistantHeard(itemId: string): void {
    const entry = this.entries.get(itemId);
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

  /** A key-press message the bridge adds; returns the item id to create it with. */
  addKeypad(text: string): string {
    const id = this.localId('kp');
    this.entries.set(id, { kind: 'keypad', id, at: new Date(), text });
    this.order.push(id);
    this.trim();
    this.report(this.entries.get(id)!);
    return id;
  }

  toolCall(call: { callId: string; name: string; arguments: string }, itemId?: string): void {
    const known = this.findTool(call.callId);
    if (known) {
      known.arguments = call.arguments;
      return;
    }
    const id = itemId ?? this.localId('fc');
    this.entries.set(id, { kind: 'tool', id, at: new Date(), ...call });
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

  /** Final turns so far, in conversation order. */
  turns(): TranscriptTurn[] {
    const turns: TranscriptTurn[] = [];
    for (const id of this.order) {
      const turn = this.turnOf(this.entries.get(id)!);
      if (turn) turns.push(turn);
    }
    return turns;
  }

  /**
   * Client events that rebuild the conversation in a new session, in order, with the old ids
   * (so the new session's `previous_item_id`s place later items after them). Turns without
   * words yet (a transcription still pending when the session was lost) are left out.
   */
  reseedEvents(): RealtimeClientEvent[] {
    const events: RealtimeClientEvent[] = [];
    for (const id of this.order) {
      const entry = this.entries.get(id)!;
      switch (entry.kind) {
        case 'caller':
        case 'keypad':
          if (entry.text) events.push(realtimeOutbound.userText(entry.text, entry.id));
          break;
        case 'assistant': {
          const text = this.heardText(entry);
          if (!text) break;
          const item: RealtimeItem = {
            id: entry.id,
            type: 'message',
            role: 'assistant',
            // An interrupted turn is marked incomplete: the caller heard only this much of it.
            status: entry.heardMs !== undefined ? 'incomplete' : 'completed',
            content: [{ type: 'output_text', text }],
          };
          events.push(realtimeOutbound.createItem(item));
          break;
        }
        case 'tool':
          if (entry.output === undefined) break;
          events.push(realtimeOutbound.functionCall(entry, entry.id));
          events.push(
            realtimeOutbound.functionCallOutput(entry.callId, entry.output, entry.outputId),
          );
          break;
      }
    }
    return events;
  }

  /** At the end of the call: assistant turns still playing are reported as they stand. */
  flush(): void {
    for (const entry of this.entries.values()) {
      if (entry.kind === 'assistant' && entry.text !== undefined) this.report(entry);
    }
  }

  /** What the caller heard of an assistant turn: all of it, or cut at a word boundary. */
  private heardText(entry: Extract<Entry, { kind: 'assistant' }>): string | undefined {
    const text = entry.text;
    if (text === undefined || entry.heardMs === undefined) return text;
    return cutAtWord(text, entry.audioMs > 0 ? entry.heardMs / entry.audioMs : 0);
  }

  private turnOf(entry: Entry): TranscriptTurn | undefined {
    switch (entry.kind) {
      case 'caller':
        if (entry.text === undefined) return undefined;
        return {
          role: 'caller',
          text: entry.text,
          at: entry.at,
          ...(entry.inaudible ? { inaudible: true } : {}),
        };
      case 'keypad':
        return { role: 'caller', text: entry.text, at: entry.at, keypad: true };
      case 'assistant': {
        const text = this.heardText(entry);
        if (text === undefined) return undefined;
        return {
          role: 'assistant',
          text,
          at: entry.at,
          ...(entry.heardMs !== undefined ? { interrupted: true } : {}),
        };
      }
      case 'tool':
        if (entry.output === undefined) return undefined;
        return {
          role: 'tool',
          text: `${entry.name}(${entry.arguments}) -> ${entry.output}`,
          at: entry.at,
        };
    }
  }

  private report(entry: Entry): void {
    if (entry.kind === 'assistant') {
      if (entry.reported) return;
      entry.reported = true;
    }
    const turn = this.turnOf(entry);
    if (turn) this.onTurn(turn);
  }

  private entryFor(item: RealtimeItemSummary): Entry | undefined {
    const at = new Date();
    if (item.type === 'message' && item.role === 'user') return { kind: 'caller', id: item.id, at };
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

  /** The entry for an id, made (at the end of the conversation) if no event placed it yet. */
  private ensure(itemId: string, kind: 'caller' | 'assistant'): Entry {
    const known = this.entries.get(itemId);
    if (known) return known;
    const entry: Entry =
      kind === 'caller'
        ? { kind, id: itemId, at: new Date() }
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
      this.entries.delete(this.order.shift()!);
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

/**
 * The first `fraction` of `text`, ending at a word boundary (a word the cut falls inside was not
 * heard whole, so it is dropped).
 */
export function cutAtWord(text: string, fraction: number): string {
  if (fraction >= 1) return text;
  const limit = Math.max(0, Math.round(text.length * fraction));
  if (limit === 0) return '';
  if (/\s/.test(text[limit] ?? ' ')) return text.slice(0, limit).trimEnd();
  const space = text.lastIndexOf(' ', limit);
  return space <= 0 ? '' : text.slice(0, space).trimEnd();
}
