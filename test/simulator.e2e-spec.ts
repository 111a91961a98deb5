import alawmulaw from 'alawmulaw';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CallEventFeed,
  SseParser,
  transcriptOf,
  type ServerSentEvent,
} from '../scripts/lib/call-events.js';
import { defaultSamplePath, loadCallerAudio } from '../scripts/lib/caller-audio.js';
import { PlaybackBuffer } from '../scripts/lib/playback-buffer.js';
import {
  Simulation,
  type SimulationOptions,
  type SimulationResult,
} from '../scripts/lib/simulation.js';
import { parseTwiml } from '../scripts/lib/twiml.js';
import { dominantFrequency, toneMagnitude } from './support/audio.js';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { FakeRealtimeServer, type FakeRealtimeConnection } from './support/fake-realtime-server.js';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from './support/fake-twilio.js';
import { sleep, waitUntil } from './support/wait.js';
import { randomApiToken, randomTwilioAuthToken, TEST_API_TOKEN } from './support/secrets.js';

// The simulator (scripts/simulate.ts) is run in-process through its library entry point, against
// the real bridge and the loopback OpenAI fake. Expected audio is made and measured with
// alawmulaw and hand-written WAV headers, never with the simulator's own codec or WAV code.

/** A tone as 16-bit samples; the phase offset makes sample 0 non-zero, so the start is findable. */
function toneSamples(frequencyHz: number, durationMs: number, sampleRate: number): Int16Array {
  const samples = new Int16Array(Math.round((sampleRate * durationMs) / 1000));
  for (let i = 0; i < samples.length; i++) {
    samples[i] = Math.round(9000 * Math.sin((2 * Math.PI * frequencyHz * i) / sampleRate + 1));
  }
  return samples;
}

function mulawOf(samples: Int16Array): Buffer {
  return Buffer.from(alawmulaw.mulaw.encode(samples));
}

function decodedMulaw(mulaw: Buffer): Int16Array {
  return Int16Array.from(alawmulaw.mulaw.decode(mulaw));
}

/** A canonical WAV file: 44-byte header, then `data` as given. */
function wavFile(
  data: Buffer,
  sampleRate: number,
  channels: number,
  bits: number,
  formatTag = 1,
): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(formatTag, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE((sampleRate * channels * bits) / 8, 28);
  header.writeUInt16LE((channels * bits) / 8, 32);
  header.writeUInt16LE(bits, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** Reads the simulator's output WAV by hand: asserts 8 kHz mono 16-bit, returns the samples. */
function readReplyWav(path: string): Int16Array {
  const file = readFileSync(path);
  expect(file.toString('ascii', 0, 4)).toBe('RIFF');
  expect(file.readUInt16LE(20)).toBe(1); // PCM
  expect(file.readUInt16LE(22)).toBe(1); // mono
  expect(file.readUInt32LE(24)).toBe(8000);
  expect(file.readUInt16LE(34)).toBe(16);
  const data = file.subarray(44, 44 + file.readUInt32LE(40));
  return new Int16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
}

/** Where `needle` starts in `haystack`, sample-exact, or -1. */
function indexOfSamples(haystack: Int16Array, needle: Int16Array): number {
  const bytes = (samples: Int16Array) =>
    Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const byteIndex = bytes(haystack).indexOf(bytes(needle));
  return byteIndex === -1 || byteIndex % 2 !== 0 ? -1 : byteIndex / 2;
}

function nonZeroCount(samples: Int16Array): number {
  return samples.reduce((count, sample) => count + (sample !== 0 ? 1 : 0), 0);
}

describe('the call simulator (npm run simulate)', () => {
  let openai: FakeRealtimeServer;
  let bridge: RunningBridge;
  let dir: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'simulator-'));
    openai = new FakeRealtimeServer();
    await openai.start();
    bridge = await startBridge({
      OPENAI_REALTIME_URL: openai.url,
      AUDIO_INPUT_FORMAT: 'g711_ulaw',
      API_TOKEN: TEST_API_TOKEN,
    });
  });

  afterEach(async () => {
    await bridge?.close();
    await openai?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function simulate(overrides: Partial<SimulationOptions>) {
    const stderr: string[] = [];
    const options: SimulationOptions = {
      url: bridge.baseUrl,
      authToken: TEST_AUTH_TOKEN,
      accountSid: TEST_ACCOUNT_SID,
      from: '+15550001111',
      to: '+15550002222',
      input: { kind: 'file', path: defaultSamplePath() },
      speaker: false,
      outPath: join(dir, 'reply.wav'),
      tailMs: 1000,
      maxReplyWaitMs: 3000,
      verbose: false,
      ...overrides,
    };
    const simulation = new Simulation(options, { write: (text: string) => stderr.push(text) });
    const started = Date.now();
    const done: Promise<SimulationResult & { wallMs: number }> = simulation
      .run()
      .then((result) => ({ ...result, wallMs: Date.now() - started }));
    return { done, stderr, options, started };
  }

  async function upstreamWithAudio(bytes: number): Promise<FakeRealtimeConnection> {
    const upstream = await openai.connection(0);
    await waitUntil(() => upstream.appendedAudio().length >= bytes, `${bytes} bytes appended`);
    return upstream;
  }

  it('streams the sample WAV at real-time pace and writes exactly the reply the assistant sent', async () => {
    const sample = loadCallerAudio(defaultSamplePath()).mulaw;
    const { done, stderr, started } = simulate({ apiToken: TEST_API_TOKEN });

    const upstream = await upstreamWithAudio(8000);
    // Real-time pace: the simulator's grid lets frame k go at k x 20 ms at the earliest, so one
    // second of audio (50 frames) takes at least 1000 ms (two frames' slack here). A busy machine
    // only makes it later (the simulator then sends its overdue frames at once), so this bound
    // holds under load, where counting the bytes that arrived past the second would not.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000 - 2 * 20);
    const reply = mulawOf(toneSamples(660, 600, 8000));
    upstream.audioDelta('resp_1', 'item_1', reply.subarray(0, 1600));
    upstream.audioDelta('resp_1', 'item_1', reply.subarray(1600, 3200));
    upstream.audioDelta('resp_1', 'item_1', reply.subarray(3200));
    upstream.audioDone('resp_1', 'item_1');
    upstream.send({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: 'item_user',
      content_index: 0,
      transcript: 'Hello, what are your opening hours?',
    });
    upstream.send({
      type: 'response.output_audio_transcript.done',
      response_id: 'resp_1',
      item_id: 'item_1',
      output_index: 0,
      content_index: 0,
      transcript: 'We open at nine.',
    });
    const result = await done;

    expect(result.exitCode).toBe(0);
    expect(result.endReason).toBe('caller audio and tail sent');
    // Transcripts come from the bridge's event feed (API_TOKEN), each on a line of its own.
    expect(stderr).toContain('caller: Hello, what are your opening hours?\n');
    expect(stderr).toContain('assistant: We open at nine.\n');
    // The bridge passed on the whole file, byte for byte, then the tail's silence.
    const appended = upstream.appendedAudio();
    expect(appended.subarray(0, sample.length).equals(sample)).toBe(true);
    expect(appended.length).toBeGreaterThanOrEqual(sample.length + 0.8 * 8000);
    expect(result.wallMs).toBeGreaterThanOrEqual(sample.length / 8 + 1000 - 50);

    // The reply, decoded independently, is in the WAV once, sample for sample; the rest is silence.
    const heard = readReplyWav(result.outPath!);
    const expected = decodedMulaw(reply);
    const at = indexOfSamples(heard, expected);
    expect(at).toBeGreaterThanOrEqual(8000); // played on the call's timeline, after 1 s
    expect(nonZeroCount(heard)).toBe(nonZeroCount(expected));
    expect(heard.length / 8).toBeGreaterThanOrEqual(result.stats!.elapsedMs - 50);

    // Every mark (one per chunk, one for the end of the item) came back after its audio played.
    expect(result.stats!.marksReceived).toBe(4);
    expect(result.stats!.marksAcknowledged).toBe(4);
    expect(result.stats!.clears).toBe(0);
    expect(result.stats!.playedMs).toBe(600);
    expect(result.stats!.firstAudioMs).toBeGreaterThan(900);
    expect(stderr.join('')).toContain('marks              4 acknowledged of 4 received');
  });

  it('drops the unplayed rest of a reply on clear, echoing its pending marks at once', async () => {
    // 44.1 kHz stereo 32-bit float: the conversion path, not the pass-through one.
    const seconds = 0.6;
    const frames = Math.round(44100 * seconds);
    const float = Buffer.alloc(frames * 8);
    for (let i = 0; i < frames; i++) {
      const value = 0.3 * Math.sin((2 * Math.PI * 440 * i) / 44100);
      float.writeFloatLE(value, i * 8);
      float.writeFloatLE(value, i * 8 + 4);
    }
    const input = join(dir, 'caller-44k-stereo-float.wav');
    writeFileSync(input, wavFile(float, 44100, 2, 32, 3));
    const { done } = simulate({ input: { kind: 'file', path: input }, tailMs: 1500 });

    const upstream = await upstreamWithAudio(1600);
    const reply = mulawOf(toneSamples(300, 2000, 8000));
    for (let i = 0; i < 10; i++) {
      upstream.audioDelta('resp_1', 'item_1', reply.subarray(i * 1600, (i + 1) * 1600));
    }
    const repliedAt = performance.now();
    await sleep(650); // the caller hears about 0.65 s, then starts talking over the assistant
    // On a busy machine the sleep can last longer: the caller plays on until the barge-in.
    const bargeInAfterMs = performance.now() - repliedAt;
    upstream.send({
      type: 'input_audio_buffer.speech_started',
      audio_start_ms: 0,
      item_id: 'item_user',
    });
    const truncate = await upstream.waitFor('conversation.item.truncate');
    const result = await done;

    expect(result.exitCode).toBe(0);
    const stats = result.stats!;
    expect(stats.clears).toBe(1);
    // One mark per 200 ms delta, and the one right behind the clear that times the barge-in.
    expect(stats.marksReceived).toBe(11);
    expect(stats.marksAcknowledged).toBe(11); // played ones on time, the rest at the clear
    expect(stats.receivedMs).toBe(2000);
    expect(stats.playedMs).toBeGreaterThan(500);
    // Nothing plays on after the clear: at most the time to the barge-in, plus delivery.
    expect(stats.playedMs).toBeLessThan(bargeInAfterMs + 250);
    expect(stats.playedMs).toBeLessThan(2000);
    expect(stats.playedMs + stats.clearedMs).toBe(2000);

    // The WAV holds exactly the played beginning of the reply, then silence: nothing after the clear.
    const heard = readReplyWav(result.outPath!);
    const playedSamples = stats.playedMs * 8;
    const expected = decodedMulaw(reply);
    const at = indexOfSamples(heard, expected.subarray(0, playedSamples));
    expect(at).toBeGreaterThan(0);
    expect(nonZeroCount(heard)).toBe(nonZeroCount(expected.subarray(0, playedSamples)));

    // The bridge learnt from the echo timing how much was heard: marks come every 200 ms.
    const audioEndMs = truncate.audio_end_ms as number;
    expect(audioEndMs).toBeGreaterThan(stats.playedMs - 250);
    expect(audioEndMs).toBeLessThanOrEqual(stats.playedMs + 50);

    // The float stereo 44.1 kHz file reached OpenAI as a 440 Hz tone of the right length.
    const caller = decodedMulaw(upstream.appendedAudio().subarray(0, 4800));
    expect(dominantFrequency(caller.subarray(400), 8000)).toBeGreaterThanOrEqual(430);
    expect(dominantFrequency(caller.subarray(400), 8000)).toBeLessThanOrEqual(450);
  });

  it('says why when the auth token is wrong, and exits 1 without calling', async () => {
    const { done } = simulate({ authToken: randomTwilioAuthToken() });
    const result = await done;
    expect(result.exitCode).toBe(1);
    expect(result.endReason).toMatch(/refused the webhook signature \(403\)/);
    expect(openai.connections).toHaveLength(0);
  });
});

describe('the simulator building blocks', () => {
  describe('caller audio conversion', () => {
    const rates = [8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000];

    function pcmData(rate: number, bits: number, channels: number): Buffer {
      const frames = Math.round(rate * 0.5);
      const bytes = bits / 8;
      const data = Buffer.alloc(frames * bytes * channels);
      for (let i = 0; i < frames; i++) {
        const value = 0.4 * Math.sin((2 * Math.PI * 1000 * i) / rate);
        for (let channel = 0; channel < channels; channel++) {
          const offset = (i * channels + channel) * bytes;
          if (bits === 8) data[offset] = Math.round(128 + value * 127);
          else if (bits === 16) data.writeInt16LE(Math.round(value * 32767), offset);
          else if (bits === 24) data.writeIntLE(Math.round(value * 8388607), offset, 3);
          else data.writeInt32LE(Math.round(value * 2147483647), offset);
        }
      }
      return data;
    }

    function expectPhoneTone(mulaw: Buffer): void {
      expect(Math.abs(mulaw.length - 4000)).toBeLessThanOrEqual(1); // 0.5 s at 8 kHz
      const samples = decodedMulaw(mulaw).subarray(500, 3500);
      expect(dominantFrequency(samples, 8000)).toBe(1000);
      expect(toneMagnitude(samples, 1000, 8000) / 32768).toBeCloseTo(0.4, 1);
    }

    it.each(rates)('turns a %i Hz 16-bit stereo WAV into 8 kHz mu-law', (rate) => {
      const file = join(tmpdir(), `simulator-${rate}-${process.pid}.wav`);
      writeFileSync(file, wavFile(pcmData(rate, 16, 2), rate, 2, 16));
      try {
        expectPhoneTone(loadCallerAudio(file).mulaw);
      } finally {
        rmSync(file, { force: true });
      }
    });

    it.each([8, 24, 32])('reads %i-bit PCM at 48 kHz', (bits) => {
      const file = join(tmpdir(), `simulator-${bits}bit-${process.pid}.wav`);
      writeFileSync(file, wavFile(pcmData(48000, bits, 1), 48000, 1, bits));
      try {
        expectPhoneTone(loadCallerAudio(file).mulaw);
      } finally {
        rmSync(file, { force: true });
      }
    });

    it('removes what 8 kHz cannot carry instead of folding it back as an alias', () => {
      // A 6 kHz tone at 48 kHz would alias to 2 kHz if only decimated.
      const data = Buffer.alloc(48000);
      for (let i = 0; i < 24000; i++) {
        data.writeInt16LE(Math.round(16000 * Math.sin((2 * Math.PI * 6000 * i) / 48000)), i * 2);
      }
      const file = join(tmpdir(), `simulator-alias-${process.pid}.wav`);
      writeFileSync(file, wavFile(data, 48000, 1, 16));
      try {
        const samples = decodedMulaw(loadCallerAudio(file).mulaw).subarray(500, 3500);
        expect(toneMagnitude(samples, 2000, 8000)).toBeLessThan(16); // below the mu-law floor
      } finally {
        rmSync(file, { force: true });
      }
    });

    it('passes an 8 kHz mono mu-law WAV (the shipped sample) through untouched', () => {
      const sample = readFileSync(defaultSamplePath());
      const audio = loadCallerAudio(defaultSamplePath());
      expect(audio.description).toContain('sent as is');
      expect(sample.includes(audio.mulaw)).toBe(true);
      expect(audio.mulaw.length / 8000).toBeGreaterThan(2);
    });
  });

  describe("Twilio's playback buffer", () => {
    it('echoes a mark only once the audio queued before it has played', () => {
      const buffer = new PlaybackBuffer();
      buffer.enqueueAudio(Buffer.alloc(800, 1));
      buffer.enqueueMark('a');
      buffer.enqueueAudio(Buffer.alloc(800, 2));
      buffer.enqueueMark('b');
      expect(buffer.play(799).filter((event) => event.kind === 'mark')).toEqual([]);
      expect(buffer.play(1).map((event) => event.kind)).toEqual(['audio', 'mark']);
      expect(buffer.play(10_000).map((event) => event.kind)).toEqual(['audio', 'mark']);
      expect(buffer.idle).toBe(true);
    });

    it('drops unplayed audio on clear and hands back every pending mark', () => {
      const buffer = new PlaybackBuffer();
      buffer.enqueueAudio(Buffer.alloc(800));
      buffer.enqueueMark('a');
      buffer.enqueueAudio(Buffer.alloc(800));
      buffer.enqueueMark('b');
      buffer.play(400);
      expect(buffer.clear()).toEqual({ droppedBytes: 1200, marks: ['a', 'b'] });
      expect(buffer.play(10_000)).toEqual([]);
    });
  });

  it('reads every <Parameter> and the url of a <Connect><Stream>, or a busy <Say>/<Hangup/>', () => {
    const stream = parseTwiml(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://h.example/media-stream">' +
        '<Parameter name="CallSid" value="CA1"/><Parameter name="token" value="a&amp;b"/>' +
        '<Parameter name="extra" value="x"/></Stream></Connect></Response>',
    );
    expect(stream.stream).toEqual({
      url: 'wss://h.example/media-stream',
      parameters: { CallSid: 'CA1', token: 'a&b', extra: 'x' },
      bidirectional: true,
    });
    const busy = parseTwiml('<Response><Say>All lines are busy.</Say><Hangup/></Response>');
    expect(busy).toEqual({ says: ['All lines are busy.'], hangup: true, otherVerbs: [] });
  });

  it('parses server-sent events split across chunks', () => {
    const parser = new SseParser();
    expect(parser.push('event: call.transcript\r\ndata: {"role":"cal')).toEqual([]);
    expect(parser.push('ler","text":"hi"}\r\n\r\n: keep-alive\n\nevent: x\ndata: 1\n')).toEqual([
      { event: 'call.transcript', data: '{"role":"caller","text":"hi"}', id: undefined },
    ]);
    expect(parser.push('\n')).toEqual([{ event: 'x', data: '1', id: undefined }]);
  });

  describe('the call event feed', () => {
    let server: Server;
    let baseUrl: string;
    let requests: { url?: string; authorization?: string }[];

    /** A stand-in for the bridge's feed: two events, the second split across writes. */
    async function serve(status: number): Promise<void> {
      requests = [];
      server = createServer((req, res) => {
        requests.push({ url: req.url, authorization: req.headers.authorization });
        if (status !== 200) {
          res.writeHead(status).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': following call events\n\nevent: call.started\ndata: {"callSid":"CA1"}\n\n');
        res.write('event: call.transcript\ndata: {"callSid":"CA1","role":"caller",');
        setTimeout(() => res.write('"text":"What time do you open?"}\n\n'), 20);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }

    afterEach(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('streams transcripts from the feed with the bearer token', async () => {
      await serve(200);
      const events: ServerSentEvent[] = [];
      const notes: string[] = [];
      const feed = new CallEventFeed({
        baseUrl,
        callSid: 'CA1',
        apiToken: TEST_API_TOKEN,
        onEvent: (event) => events.push(event),
        onNote: (note) => notes.push(note),
      });
      feed.open();
      await waitUntil(() => events.length === 2, 'two events');
      await feed.close();

      expect(requests).toEqual([
        {
          url: '/api/calls/CA1/events',
          authorization: `Bearer ${TEST_API_TOKEN}`,
        },
      ]);
      expect(events.map(transcriptOf)).toEqual([
        undefined,
        { role: 'caller', text: 'What time do you open?' },
      ]);
      expect(notes).toEqual([]);
    });

    it.each([
      [401, /^transcripts unavailable: the bridge refused the API token \(HTTP 401\)/],
      [404, /^transcripts unavailable \(HTTP 404\): set API_TOKEN on the bridge/],
    ])('gives one line on why transcripts are unavailable on HTTP %i', async (status, message) => {
      await serve(status);
      const notes: string[] = [];
      const feed = new CallEventFeed({
        baseUrl,
        callSid: 'CA1',
        apiToken: randomApiToken(),
        onEvent: () => undefined,
        onNote: (note) => notes.push(note),
      });
      feed.open();
      await waitUntil(() => notes.length === 1, 'a note');
      await feed.close();
      expect(notes).toEqual([expect.stringMatching(message)]);
    });
  });
});
