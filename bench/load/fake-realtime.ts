/**
 * The fake OpenAI Realtime server of the load bench, run as its own process (forked by
 * bench/load.bench.ts) so that answering the service never competes with the callers for one
 * event loop.
 *
 * Per connection it greets with `session.created`, answers `session.update`, and echoes every
 * 20 ms frame of appended audio at once as one 160-byte mu-law `response.output_audio.delta`
 * that carries a tag (this connection's id, the frame's number). An append that carries several
 * frames (a service that coalesces caller audio) is split and echoed frame by frame, so the
 * service's outbound work is the same however it appends. It time-stamps each frame's arrival
 * and each echo's departure in typed arrays, reads the caller's tag from g711_ulaw frames, and
 * checks the tone level of pcm16 frames (see audio.ts).
 *
 * With `echoBurstMs` set, each connection holds its echoes and sends what it holds every that
 * many ms, back to back: the way OpenAI delivers a spoken answer (generated faster than real
 * time, arriving in bursts), rather than one delta every 20 ms. Echo times are stamped when
 * each leaves, so outbound latency still measures the service alone.
 */
import type { IncomingMessage } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { classifyPcm16Level, levelOfFrame, silenceTailBase64 } from './audio.js';
import {
  FRAME_BYTES,
  loopDelayMs,
  LOOP_MONITOR_RESOLUTION_MS,
  isMessage,
  nowNs,
  parseJsonRecord,
  rawText,
  readTagAt,
  sendToParent,
  setClockBase,
  tagBase64,
  type ConnectionRecord,
  type FakeConfig,
  type FakeResult,
  type Tag,
  type ToFake,
} from './protocol.js';

const PCM16_FRAME_BYTES = 960; // 20 ms of 24 kHz PCM16
/** Room for the largest append a service may send (200 ms of PCM16 is 9600 bytes). */
const APPEND_SCRATCH_BYTES = 64 * 1024;

class FakeConnection {
  readonly record: ConnectionRecord;
  /** Frames whose echo waits for the next burst (echoBurstMs). */
  readonly heldEchoes: number[] = [];
  burstTimer?: NodeJS.Timeout;
  private eventSequence = 0;

  constructor(
    readonly socket: WebSocket,
    connId: number,
    req: IncomingMessage,
    maxFrames: number,
  ) {
    const url = new URL(req.url ?? '/', 'ws://127.0.0.1');
    this.record = {
      connId,
      frames: 0,
      appendMessages: 0,
      recvNs: new Float64Array(maxFrames).fill(NaN),
      echoNs: new Float64Array(maxFrames).fill(NaN),
      echoes: 0,
      tagCall: -1,
      tagFrame: new Int32Array(maxFrames).fill(-1),
      tagCallMismatches: 0,
      levelMismatches: 0,
      badSize: 0,
      overflow: 0,
      sessionUpdates: 0,
      authorized: /^Bearer \S+/.test(req.headers.authorization ?? ''),
      model: url.searchParams.get('model') ?? '',
    };
  }

  send(type: string, fields: string): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(`{"type":"${type}","event_id":"event_${++this.eventSequence}"${fields}}`);
  }
}

class FakeRealtimeServer {
  private readonly connections: FakeConnection[] = [];
  private readonly tagScratch = Buffer.alloc(16);
  private readonly tag: Tag = { a: 0, b: 0 };
  private readonly audioScratch = Buffer.alloc(APPEND_SCRATCH_BYTES);
  private readonly echoTail = silenceTailBase64();
  private readonly frameBytes: number;
  private framesTotal = 0;
  private echoesTotal = 0;
  private server?: WebSocketServer;

  constructor(private readonly config: FakeConfig) {
    this.frameBytes = config.format === 'g711_ulaw' ? FRAME_BYTES : PCM16_FRAME_BYTES;
  }

  async listen(): Promise<number> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    this.server = server;
    server.on('connection', (socket, req) => this.accept(socket, req));
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('fake has no port');
    return address.port;
  }

  progress(): { connections: number; frames: number; echoes: number } {
    return {
      connections: this.connections.length,
      frames: this.framesTotal,
      echoes: this.echoesTotal,
    };
  }

  result(): ConnectionRecord[] {
    return this.connections.map(({ record }) => ({
      ...record,
      recvNs: record.recvNs.slice(0, record.frames),
      echoNs: record.echoNs.slice(0, record.frames),
      tagFrame: record.tagFrame.slice(0, record.frames),
    }));
  }

  close(): void {
    for (const client of this.server?.clients ?? []) client.terminate();
    this.server?.close();
  }

  private accept(socket: WebSocket, req: IncomingMessage): void {
    const connection = new FakeConnection(
      socket,
      this.connections.length,
      req,
      this.config.maxFrames,
    );
    this.connections.push(connection);
    socket.on('message', (data: RawData) => this.onMessage(connection, data));
    socket.on('close', () => clearInterval(connection.burstTimer));
    socket.on('error', () => undefined); // a reset socket is reported by 'close'
    connection.send('session.created', ',"session":{"id":"sess_load","model":"gpt-realtime"}');
  }

  private onMessage(connection: FakeConnection, data: RawData): void {
    // Time-stamped first: anything after this is the fake's own processing, not transit.
    const recvNs = nowNs();
    const event = parseJsonRecord(rawText(data));
    if (!event) return;
    if (event.type === 'input_audio_buffer.append' && typeof event.audio === 'string') {
      this.onAppend(connection, event.audio, recvNs);
    } else if (event.type === 'session.update') {
      connection.record.sessionUpdates++;
      connection.send('session.updated', `,"session":${JSON.stringify(event.session ?? {})}`);
    }
  }

  private onAppend(connection: FakeConnection, audio: string, recvNs: number): void {
    const record = connection.record;
    record.appendMessages++;
    const bytes = this.audioScratch;
    const length = bytes.write(audio, 0, 'base64');
    if (length === 0 || length % this.frameBytes !== 0) record.badSize++;
    for (let offset = 0; offset < length; offset += this.frameBytes) {
      const n = record.frames++;
      this.framesTotal++;
      if (n >= record.recvNs.length) {
        record.overflow++;
        continue;
      }
      record.recvNs[n] = recvNs;
      const frameLength = Math.min(this.frameBytes, length - offset);
      if (this.config.format === 'g711_ulaw') this.inspectMulaw(record, n, bytes, offset);
      else this.inspectPcm16(record, n, bytes.subarray(offset, offset + frameLength));
      if (this.config.echoBurstMs > 0) this.holdEcho(connection, n);
      else this.echo(connection, n);
    }
  }

  private holdEcho(connection: FakeConnection, n: number): void {
    connection.heldEchoes.push(n);
    connection.burstTimer ??= setInterval(() => {
      for (const held of connection.heldEchoes) this.echo(connection, held);
      connection.heldEchoes.length = 0;
    }, this.config.echoBurstMs);
  }

  private inspectMulaw(record: ConnectionRecord, n: number, bytes: Buffer, offset: number): void {
    if (!readTagAt(bytes, offset, this.tag)) return;
    if (record.tagCall === -1) record.tagCall = this.tag.a;
    else if (record.tagCall !== this.tag.a) record.tagCallMismatches++;
    record.tagFrame[n] = this.tag.b;
  }

  private inspectPcm16(record: ConnectionRecord, n: number, frame: Buffer): void {
    if (classifyPcm16Level(frame, frame.length) !== levelOfFrame(n)) record.levelMismatches++;
  }

  private echo(connection: FakeConnection, n: number): void {
    const delta = tagBase64(this.tagScratch, connection.record.connId, n) + this.echoTail;
    const fields =
      ',"response_id":"resp_load","item_id":"item_load","output_index":0,"content_index":0,' +
      `"delta":"${delta}"`;
    if (connection.socket.readyState !== connection.socket.OPEN) return;
    connection.record.echoNs[n] = nowNs();
    connection.send('response.output_audio.delta', fields);
    connection.record.echoes++;
    this.echoesTotal++;
  }
}

function main(): void {
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_MONITOR_RESOLUTION_MS });
  let fake: FakeRealtimeServer | undefined;

  // The orchestrator owns this process: when it goes, so do we.
  process.on('disconnect', () => {
    fake?.close();
    process.exit(0);
  });
  process.on('message', (message: unknown) => {
    if (!isMessage<ToFake>(message)) return;
    switch (message.kind) {
      case 'run': {
        setClockBase(message.config.clockBase);
        const server = new FakeRealtimeServer(message.config);
        fake = server;
        loopDelay.enable();
        server
          .listen()
          .then((port) => {
            sendToParent({ kind: 'listening', port });
          })
          .catch((error: unknown) => {
            console.error(`fake realtime server: ${String(error)}`);
            process.exit(1);
          });
        return;
      }
      case 'poll':
        if (fake) sendToParent({ kind: 'progress', progress: fake.progress() });
        return;
      case 'collect': {
        loopDelay.disable();
        const delay = loopDelayMs(loopDelay);
        const result: FakeResult = {
          connections: fake?.result() ?? [],
          loopDelayP99Ms: delay.p99,
          loopDelayMaxMs: delay.max,
        };
        sendToParent({ kind: 'result', result });
        return;
      }
    }
  });
}

main();
