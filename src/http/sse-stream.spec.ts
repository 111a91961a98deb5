import http, { type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { TRUNCATION_MARKER } from '../text/text-bound.js';
import { MAX_SSE_BACKLOG_BYTES, MAX_SSE_EVENT_BYTES } from './sse.constants.js';
import { sseEventJson } from './sse-event.js';
import { SseFollowerLimits } from './sse-follower-limits.js';
import { SseStream } from './sse-stream.js';

/** A real HTTP server whose every request becomes an SseStream the test drives. */
async function serve(maxDurationMs = 60_000, opening?: string) {
  const streams: SseStream[] = [];
  const server = http.createServer((_req, res: ServerResponse) => {
    streams.push(new SseStream(res, maxDurationMs, opening));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const next = async () => {
    for (let i = 0; i < 200 && streams.length === 0; i++)
      await new Promise((r) => setTimeout(r, 5));
    return streams.shift()!;
  };
  return { url, next, server, close: () => new Promise((r) => server.close(r)) };
}

describe('SseStream', () => {
  it('answers with the event-stream headers, the retry delay and its opening comment', async () => {
    const { url, next, close, server } = await serve(60_000, 'following call events');
    const response = await fetch(url);
    const stream = await next();
    stream.send('call.transcript', { text: 'hello' });
    stream.close('done');
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    expect(await response.text()).toBe(
      'retry: 2000\n\n: following call events\n\nevent: call.transcript\ndata: {"text":"hello"}\n\n: done\n\n',
    );
    server.closeAllConnections();
    await close();
  });

  it('sends an oversized event cut, with the marker, and keeps the stream open', async () => {
    const { url, next, close, server } = await serve();
    const response = await fetch(url);
    const stream = await next();
    stream.send('call.tool', { event: 'call.tool', output: 'x'.repeat(1024 * 1024) });
    stream.send('call.ended', { event: 'call.ended' });
    expect(stream.isClosed).toBe(false);
    stream.close();
    const text = await response.text();
    const lines = text.split('\n');
    expect(Math.max(...lines.map((line) => Buffer.byteLength(line)))).toBeLessThan(
      MAX_SSE_EVENT_BYTES + 100,
    );
    expect(text).toContain(TRUNCATION_MARKER);
    expect(text).toContain('event: call.ended');
    server.closeAllConnections();
    await close();
  });

  it('drops a reader that stops reading, and says so to its close handlers once', async () => {
    const { url, next, close, server } = await serve();
    const { port } = new URL(url);
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    socket.pause();
    const stream = await next();
    let closed = 0;
    stream.onClose(() => closed++);
    const event = { text: 'y'.repeat(30_000) };
    for (let i = 0; i < 2000 && !stream.isClosed; i++) stream.send('entry', event);
    expect(stream.isClosed).toBe(true);
    expect(closed).toBe(1);
    socket.destroy();
    server.closeAllConnections();
    await close();
  });

  it('ends after its maximum duration, saying so', async () => {
    const { url, close, server } = await serve(100);
    const text = await (await fetch(url)).text();
    expect(text).toContain(': maximum follow time reached');
    server.closeAllConnections();
    await close();
  });

  it('counts as closed when the client goes away', async () => {
    const { url, next, close, server } = await serve();
    const controller = new AbortController();
    await fetch(url, { signal: controller.signal });
    const stream = await next();
    controller.abort();
    for (let i = 0; i < 200 && !stream.isClosed; i++) await new Promise((r) => setTimeout(r, 5));
    expect(stream.isClosed).toBe(true);
    server.closeAllConnections();
    await close();
  });
});

describe('sseEventJson', () => {
  it('keeps an event within the bound as it is', () => {
    expect(sseEventJson({ a: 'b' }, 100)).toBe('{"a":"b"}');
  });

  it('cuts the strings of a bigger event, marking each cut', () => {
    const json = sseEventJson({ event: 'call.transcript', text: 'z'.repeat(10_000) }, 5000);
    expect(Buffer.byteLength(json)).toBeLessThanOrEqual(5000);
    expect(JSON.parse(json)).toEqual({
      event: 'call.transcript',
      text: `${'z'.repeat(4096)}${TRUNCATION_MARKER}`,
    });
  });

  it('falls back to a stub of its short fields when cutting strings is not enough', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => i);
    const json = sseEventJson({ event: 'call.ended', callSid: 'CA1', durationS: 3, many }, 1000);
    expect(JSON.parse(json)).toEqual({
      event: 'call.ended',
      callSid: 'CA1',
      durationS: 3,
      truncated: true,
      bytes: expect.any(Number) as number,
    });
  });

  it('counts UTF-8 bytes, not characters', () => {
    const json = sseEventJson({ text: 'é'.repeat(4000) }, 5000);
    expect(Buffer.byteLength(json)).toBeLessThanOrEqual(5000);
  });

  it('has a backlog bound that holds at least one whole event', () => {
    expect(MAX_SSE_BACKLOG_BYTES).toBeGreaterThanOrEqual(MAX_SSE_EVENT_BYTES);
  });
});

describe('SseFollowerLimits', () => {
  /** Just enough of a stream for the limits: it tells when it closes. */
  function fakeStream() {
    const handlers: Array<() => void> = [];
    return {
      stream: { onClose: (handler: () => void) => handlers.push(handler) } as unknown as SseStream,
      close: () => handlers.forEach((handler) => handler()),
    };
  }

  it('refuses beyond the total and the per-key bound, and takes streams again once they close', () => {
    const limits = new SseFollowerLimits(3, 2);
    const a1 = fakeStream();
    const a2 = fakeStream();
    limits.track(a1.stream, 'A');
    limits.track(a2.stream, 'A');
    expect(limits.refusal('A')).toBe('too_many_for_key');
    expect(limits.refusal('B')).toBeUndefined();
    limits.track(fakeStream().stream, 'B');
    expect(limits.refusal('C')).toBe('too_many');
    a1.close();
    expect(limits.size).toBe(2);
    expect(limits.refusal('A')).toBeUndefined();
  });
});
