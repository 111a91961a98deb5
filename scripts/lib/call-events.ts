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
