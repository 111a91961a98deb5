import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { rawDataToString } from '../websocket/raw-data.js';
import {
  assistantItemDone,
  assistantItemStarted,
  audioDelta,
  callerTurnEvents,
  contentAt,
  functionCallEvents,
  functionCallItem,
  responseCreated,
  responseDone,
  speechStarted,
  speechStopped,
  transcriptDelta,
  type RealtimeUsage,
} from './realtime-protocol.js';
import { waitUntil } from './wait.js';

/** An event the bridge sent to the model. */
export type RealtimeClientEvent = { type: string } & Record<string, unknown>;

/** What a scripted tool call came to: the arguments the model gave, the output it got back. */
export interface ScriptedToolCall {
  name: string;
  callId: string;
  arguments: unknown;
  /** The `function_call_output` the bridge sent, as text (tools answer JSON). */
  output: string;
}

const DEFAULT_USAGE: RealtimeUsage = { total_tokens: 30, input_tokens: 20, output_tokens: 10 };
/** Audio per `response.output_audio.delta` when the fake speaks (the real API sends ~100 ms). */
const DELTA_MS = 100;

/**
 * One Realtime session of the fake model: records every client event, answers `session.update`
 * and `response.create` as OpenAI's server does, and plays the rest of the server's side when a
 * test says so (raw events with `send`, or a whole step with `callerTurn`, `callTool`, `speak`).
 */
export class FakeRealtimeConnection {
  readonly received: RealtimeClientEvent[] = [];
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  closed = false;
  /** The close frame the bridge sent (code 1006 when the socket just died). */
  closeCode?: number;
  closeReason?: string;
  /** Ids of the responses created for the bridge's `response.create`s, in order. */
  readonly responseIds: string[] = [];
  private responses = 0;
  private sequence = 0;
  private ids = 0;
  /** A response the bridge asked for that no scripted step has answered yet. */
  private openResponseId?: string;
  private lastItemId: string | null = null;

  constructor(
    readonly socket: WebSocket,
    req: IncomingMessage,
  ) {
    this.url = new URL(req.url ?? '/', 'ws://127.0.0.1');
    this.headers = req.headers;
    socket.on('message', (data) => {
      const event = JSON.parse(rawDataToString(data)) as RealtimeClientEvent;
      this.received.push(event);
      if (event.type === 'response.create') {
        // As the real server does: every response starts with response.created.
        const id = `resp_auto_${++this.responses}`;
        this.responseIds.push(id);
        this.openResponseId = id;
        const metadata = (event.response as { metadata?: unknown } | undefined)?.metadata ?? null;
        this.send(responseCreated(id, metadata));
      }
      if (event.type === 'session.update') {
        this.send({ type: 'session.updated', session: event.session ?? {} });
      }
    });
    socket.on('close', (code, reason) => {
      this.closed = true;
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
    this.send({ type: 'session.created', session: { id: 'sess_fake', model: 'gpt-realtime' } });
  }

  /** Sends one server event (an `event_id` is added). */
  send(event: Record<string, unknown>): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(JSON.stringify({ event_id: `event_${++this.sequence}`, ...event }));
  }

  eventsOfType(type: string): RealtimeClientEvent[] {
    return this.received.filter((event) => event.type === type);
  }

  /** `giveUp`: a reason to stop waiting at once (see `waitUntil`). */
  async waitFor(
    type: string,
    predicate: (event: RealtimeClientEvent) => boolean = () => true,
    timeoutMs?: number,
    giveUp?: () => string | undefined,
  ): Promise<RealtimeClientEvent> {
    let found: RealtimeClientEvent | undefined;
    await waitUntil(
      () => {
        found = this.received.find((event) => event.type === type && predicate(event));
        return found !== undefined;
      },
      `client event ${type}`,
      timeoutMs,
      giveUp,
    );
    return found!;
  }

  /** Decoded bytes of every `input_audio_buffer.append` so far. */
  appendedAudio(): Buffer {
    return Buffer.concat(
      this.eventsOfType('input_audio_buffer.append').map((event) =>
        Buffer.from(event.audio as string, 'base64'),
      ),
    );
  }

  /** The output format the bridge chose in its last `session.update` (default `audio/pcm`). */
  outputFormat(): 'audio/pcmu' | 'audio/pcm' {
    const update = this.eventsOfType('session.update').at(-1)?.session as
      { audio?: { output?: { format?: { type?: string } } } } | undefined;
    return update?.audio?.output?.format?.type === 'audio/pcmu' ? 'audio/pcmu' : 'audio/pcm';
  }

  audioDelta(responseId: string, itemId: string, audio: Buffer): void {
    this.send(audioDelta(contentAt(responseId, itemId), audio));
  }

  audioDone(responseId: string, itemId: string): void {
    this.send({ type: 'response.output_audio.done', ...contentAt(responseId, itemId) });
  }

  /** Server VAD heard the caller begin; returns the id of the caller's item. */
  speechStarted(audioStartMs = 0): string {
    const itemId = this.nextId('item');
    this.send(speechStarted(itemId, audioStartMs));
    return itemId;
  }

  /** Server VAD heard the caller stop: the turn is committed, with `transcript` as its text. */
  callerTurnEnded(itemId: string, transcript: string, audioEndMs: number): void {
    this.send(speechStopped(itemId, audioEndMs));
    const previous = this.lastItemId;
    this.lastItemId = itemId;
    for (const event of callerTurnEvents(itemId, previous, transcript, audioEndMs / 1000)) {
      this.send(event);
    }
  }

  /**
   * The model calls a tool: one response carrying the function call (the one the bridge asked
   * for, if it did), then `response.done`. Resolves with the output the bridge sends back.
   */
  async callTool(
    name: string,
    args: unknown,
    timeoutMs?: number,
    giveUp?: () => string | undefined,
  ): Promise<ScriptedToolCall> {
    const responseId = this.takeResponse();
    const callId = this.nextId('call');
    const item = functionCallItem(this.nextId('item'), callId, name, JSON.stringify(args));
    const previous = this.lastItemId;
    this.lastItemId = item.id as string;
    for (const event of functionCallEvents(responseId, item, previous)) this.send(event);
    this.send(responseDone(responseId, 'completed', [item], DEFAULT_USAGE));
    const output = await this.waitFor(
      'conversation.item.create',
      (event) => {
        const sent = event.item as { type?: string; call_id?: string };
        return sent.type === 'function_call_output' && sent.call_id === callId;
      },
      timeoutMs,
      giveUp,
    );
    return { name, callId, arguments: args, output: (output.item as { output: string }).output };
  }

  /**
   * The model answers: `audio` (in the session's output format) in 100 ms deltas, ahead of real
   * time as the real API sends it, with `text` as its transcript; then `response.done`.
   */
  speak(text: string, audio: Buffer): void {
    const responseId = this.takeResponse();
    const at = contentAt(responseId, this.nextId('item'));
    const previous = this.lastItemId;
    this.lastItemId = at.item_id;
    for (const event of assistantItemStarted(at, previous)) this.send(event);
    const chunk = DELTA_MS * (this.outputFormat() === 'audio/pcmu' ? 8 : 48);
    for (let offset = 0; offset < audio.length; offset += chunk) {
      this.send(audioDelta(at, audio.subarray(offset, offset + chunk)));
    }
    this.send(transcriptDelta(at, text));
    const done = assistantItemDone(at, text, 'completed');
    for (const event of done.events) this.send(event);
    this.send(responseDone(responseId, 'completed', [done.item], DEFAULT_USAGE));
  }

  async waitForClose(): Promise<void> {
    await waitUntil(() => this.closed, 'OpenAI socket to close');
  }

  /** The response the bridge asked for and nobody answered yet, or a new one the model starts. */
  private takeResponse(): string {
    const id = this.openResponseId;
    this.openResponseId = undefined;
    if (id) return id;
    const own = this.nextId('resp');
    this.send(responseCreated(own));
    return own;
  }

  private nextId(prefix: string): string {
    return `${prefix}_fake_${++this.ids}`;
  }
}
