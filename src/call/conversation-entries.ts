import {
  realtimeOutbound,
  type RealtimeClientEvent,
  type RealtimeItem,
} from '../realtime/realtime-outbound.js';
import type { TranscriptTurn } from './call-context.js';
import { spokenMs } from './spoken-length.js';

/** One remembered conversation item (see ConversationMemory). */
export type Entry =
  | { kind: 'caller'; id: string; at: Date; text?: string; inaudible?: boolean }
  | {
      kind: 'assistant';
      id: string;
      at: Date;
      text?: string;
      /** Audio the model produced for it, in ms (what its transcript spans); 0: not seen (SIP). */
      audioMs: number;
      /** Set when the caller cut it short: the ms they heard. */
      heardMs?: number;
      /** Heard to the end (its final mark echoed). */
      heard?: boolean;
      reported?: boolean;
    }
  | { kind: 'keypad'; id: string; at: Date; text: string }
  /** A note the bridge gives the model (a handback); the model's context, not a turn. */
  | { kind: 'system'; id: string; at: Date; text: string }
  | {
      kind: 'tool';
      id: string;
      at: Date;
      callId: string;
      name: string;
      arguments: string;
      /** Its arguments are whole (the bridge took the call to run); not while still streaming. */
      complete?: boolean;
      output?: string;
      outputId?: string;
    };

type AssistantEntry = Extract<Entry, { kind: 'assistant' }>;

/**
 * What the caller heard of an assistant turn: all of it, or cut at a word boundary. Where the
 * bridge never saw the audio (SIP: the server played it and reports only where it cut), the
 * audio's length is estimated from the transcript.
 */
export function heardText(entry: AssistantEntry): string | undefined {
  const text = entry.text;
  if (text === undefined || entry.heardMs === undefined) return text;
  const audioMs = entry.audioMs > 0 ? entry.audioMs : spokenMs(text);
  return cutAtWord(text, audioMs > 0 ? entry.heardMs / audioMs : 0);
}

/** The turn an entry shows as (transcript, events, record), once it has words. */
export function turnOf(entry: Entry): TranscriptTurn | undefined {
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
      const text = heardText(entry);
      // Nothing of it was heard: not a turn the caller lived.
      if (!text) return undefined;
      return {
        role: 'assistant',
        text,
        at: entry.at,
        ...(entry.heardMs !== undefined ? { interrupted: true } : {}),
      };
    }
    case 'system':
      return undefined;
    case 'tool':
      if (entry.output === undefined) return undefined;
      return {
        role: 'tool',
        text: `${entry.name}(${entry.arguments}) -> ${entry.output}`,
        at: entry.at,
      };
  }
}

/**
 * Client events that rebuild the conversation in a new session, in order, with the old ids (so
 * the new session's `previous_item_id`s place later items after them). Turns without words yet
 * (a transcription still pending when the session was lost) are left out. A tool call goes in
 * with its output, or alone while its tool runs (the server refuses an output whose call it has
 * not seen); an output sent while no session was open is here, so it reaches the new one once.
 */
export function reseedEventsOf(entries: Iterable<Entry>): RealtimeClientEvent[] {
  const events: RealtimeClientEvent[] = [];
  for (const entry of entries) {
    switch (entry.kind) {
      case 'caller':
      case 'keypad':
        if (entry.text) events.push(realtimeOutbound.userText(entry.text, entry.id));
        break;
      case 'system':
        events.push(realtimeOutbound.systemText(entry.text, entry.id));
        break;
      case 'assistant': {
        const text = heardText(entry);
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
        // A call still running goes in too: its output, sent when it settles, answers it. One
        // whose arguments were still streaming when the session went never ran: left out.
        if (entry.output === undefined && !entry.complete) break;
        events.push(realtimeOutbound.functionCall(entry, entry.id));
        if (entry.output === undefined) break;
        events.push(
          realtimeOutbound.functionCallOutput(entry.callId, entry.output, entry.outputId),
        );
        break;
    }
  }
  return events;
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
