/**
 * The bridge's per-call event feed: `GET /api/calls/:callSid/events`, server-sent events, bearer
 * API_TOKEN. The Twilio protocol carries no text, so this is where transcripts come from.
 */

export interface ServerSentEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * Incremental text/event-stream parser (WHATWG HTML, "event stream interpretation"): feed it
 * chunks as they arrive, get complete events back.
 */
export class SseParser {
  private buffer = '';
  private eventName = '';
  private dataLines: string[] = [];
  private id?: string;

  push(chunk: string): ServerSentEvent[] {
    this.buffer += chunk;
    const events: ServerSentEvent[] = [];
    let newline: RegExpExecArray | null;
    const lineEnd = /\r\n|\r|\n/g;
    let consumed = 0;
    while ((newline = lineEnd.exec(this.buffer)) !== null) {
      // A lone \r at the very end may be the first half of \r\n: wait for the next chunk.
      if (newline[0] === '\r' && newline.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(consumed, newline.index);
      consumed = newline.index + newline[0].length;
      const event = this.line(line);
      if (event) events.push(event);
    }
    this.buffer = this.buffer.slice(consumed);
    return events;
  }

  private line(line: string): ServerSentEvent | undefined {
    if (line === '') {
      const event =
        this.dataLines.length > 0
          ? { event: this.eventName || 'message', data: this.dataLines.join('\n'), id: this.id }
          : undefined;
      this.eventName = '';
      this.dataLines = [];
      return event;
    }
    if (line.startsWith(':')) return undefined; // comment / keep-alive
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.eventName = value;
    else if (field === 'data') this.dataLines.push(value);
    else if (field === 'id') this.id = value;
    return undefined;
  }
}

export interface TranscriptLine {
  role: 'caller' | 'assistant';
  text: string;
}

/** The transcript in a `call.transcript` event, if it is one and well formed. */
export function transcriptOf(event: ServerSentEvent): TranscriptLine | undefined {
  if (event.event !== 'call.transcript') return undefined;
  let data: unknown;
  try {
    data = JSON.parse(event.data);
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null) return undefined;
  const { role, text } = data as Record<string, unknown>;
  if ((role !== 'caller' && role !== 'assistant') || typeof text !== 'string') return undefined;
  return { role, text };
}

function parseData(event: ServerSentEvent): Record<string, unknown> | undefined {
  try {
    const data: unknown = JSON.parse(event.data);
    return typeof data === 'object' && data !== null
      ? (data as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A `call.tool` event as one readable line: `tool name({...}) -> output (12 ms)`. */
export function toolCallOf(event: ServerSentEvent): string | undefined {
  if (event.event !== 'call.tool') return undefined;
  const data = parseData(event);
  if (!data || typeof data.name !== 'string') return undefined;
  const output = typeof data.output === 'string' ? data.output : JSON.stringify(data.output);
  const verdict = data.ok === false ? 'failed' : '->';
  const ms = typeof data.durationMs === 'number' ? ` (${data.durationMs} ms)` : '';
  return `tool ${data.name}(${JSON.stringify(data.arguments ?? {})}) ${verdict} ${output}${ms}`;
}

/** The bridge's record of a call, from its `call.ended` event (fields as the bridge sends them). */
export interface CallRecord {
  reason: string;
  outcome: string;
  durationS?: number;
  turns?: { caller?: number; assistant?: number };
  interruptions?: number;
  reconnects?: number;
  latency?: { firstAudioMs?: number; responseAvgMs?: number; responseMaxMs?: number };
  usage?: { inputTokens?: number; outputTokens?: number; totalTokens?: number };
  frames?: { in?: number; out?: number; dropped?: number };
}

export function callRecordOf(event: ServerSentEvent): CallRecord | undefined {
  if (event.event !== 'call.ended') return undefined;
  const data = parseData(event);
  if (!data || typeof data.reason !== 'string' || typeof data.outcome !== 'string')
    return undefined;
  return data as unknown as CallRecord;
}

export function formatCallRecord(record: CallRecord): string {
  const ms = (value: number | undefined) => (value === undefined ? '-' : `${Math.round(value)} ms`);
  return [
    `the bridge's call record: ${record.outcome} (${record.reason})`,
    `  duration           ${record.durationS?.toFixed(1) ?? '-'} s`,
    `  turns              ${record.turns?.caller ?? 0} caller, ${record.turns?.assistant ?? 0} assistant; ${record.interruptions ?? 0} interruptions, ${record.reconnects ?? 0} reconnects`,
    `  latency            first audio ${ms(record.latency?.firstAudioMs)}, response avg ${ms(record.latency?.responseAvgMs)}, max ${ms(record.latency?.responseMaxMs)}`,
    `  frames             ${record.frames?.in ?? 0} in, ${record.frames?.out ?? 0} out, ${record.frames?.dropped ?? 0} dropped`,
    `  tokens             ${record.usage?.totalTokens ?? 0} (${record.usage?.inputTokens ?? 0} in, ${record.usage?.outputTokens ?? 0} out)`,
  ].join('\n');
}

export interface CallEventFeedOptions {
  baseUrl: string;
  callSid: string;
  apiToken: string;
  onEvent(event: ServerSentEvent): void;
  /** One-line notes: why the feed is unavailable, or that it broke. */
  onNote(message: string): void;
}

/**
 * Subscribes to the call's event feed until `close()`. Never throws: a bridge without the
 * endpoint, or a wrong token, costs the transcripts, not the call.
 */
export class CallEventFeed {
  private readonly abort = new AbortController();
  private done?: Promise<void>;

  constructor(private readonly options: CallEventFeedOptions) {}

  open(): void {
    this.done = this.run().catch((error: unknown) => {
      if (!this.abort.signal.aborted) {
        this.options.onNote(`transcripts stopped: ${(error as Error).message}`);
      }
    });
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  /** Waits until `condition` holds, the feed ends, or `timeoutMs` passes, whichever is first. */
  async waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let ended = false;
    void this.done?.then(() => (ended = true));
    while (!condition() && !ended && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private async run(): Promise<void> {
    const { baseUrl, callSid, apiToken } = this.options;
    const response = await fetch(`${baseUrl}/api/calls/${encodeURIComponent(callSid)}/events`, {
      headers: { authorization: `Bearer ${apiToken}`, accept: 'text/event-stream' },
      signal: this.abort.signal,
    });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      this.options.onNote(unavailableReason(response.status));
      return;
    }
    await this.read(response.body);
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const reader = body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      for (const event of parser.push(decoder.decode(value, { stream: true }))) {
        this.options.onEvent(event);
      }
    }
  }
}

function unavailableReason(status: number): string {
  switch (status) {
    case 401:
    case 403:
      return `transcripts unavailable: the bridge refused the API token (HTTP ${status}); --api-token / API_TOKEN must match the bridge's API_TOKEN`;
    case 404:
      // The bridge hides its whole call-control API, event feed included, without an API_TOKEN.
      return 'transcripts unavailable (HTTP 404): set API_TOKEN on the bridge, and the same value here';
    default:
      return `transcripts unavailable: the event feed answered HTTP ${status}`;
  }
}
