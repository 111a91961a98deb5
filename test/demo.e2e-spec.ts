import alawmulaw from 'alawmulaw';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { rawDataToString } from '../src/websocket/raw-data.js';
import { defaultSamplePath, loadCallerAudio } from '../scripts/lib/caller-audio.js';
import { startDemo, type DemoSetup } from '../scripts/lib/demo-bridge.js';
import { DemoModel } from '../scripts/lib/demo-model/demo-model.js';
import { Simulation, type SimulationOptions } from '../scripts/lib/simulation.js';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from './support/fake-twilio.js';
import { waitUntil } from './support/wait.js';

// The demo model (scripts/lib/demo-model) is what `npm run demo` and `simulate --demo` call: it
// is checked here against the GA protocol, and through the whole bridge with the simulator.

type Event = { type: string } & Record<string, unknown>;

/** A raw Realtime client: what the bridge would send, and everything the model answers. */
class RealtimeClient {
  readonly events: Event[] = [];
  closeCode?: number;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => this.events.push(JSON.parse(rawDataToString(data)) as Event));
    socket.on('close', (code) => (this.closeCode = code));
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<RealtimeClient> {
    const socket = new WebSocket(`${url}?model=gpt-realtime`, {
      headers: { authorization: 'Bearer any-key', ...headers },
    });
    const client = new RealtimeClient(socket);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    return client;
  }

  send(event: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(event));
  }

  async next(type: string, after = 0, timeoutMs = 5000): Promise<Event> {
    let found: Event | undefined;
    await waitUntil(
      () => (found = this.events.slice(after).find((e) => e.type === type)) !== undefined,
      `event ${type}`,
      timeoutMs,
    );
    return found!;
  }

  types(): string[] {
    return this.events.map((e) => e.type);
  }
}

const SESSION = {
  type: 'realtime',
  instructions: 'Be brief.',
  audio: {
    input: {
      format: { type: 'audio/pcmu' },
      turn_detection: { type: 'server_vad', silence_duration_ms: 300 },
      transcription: { model: 'gpt-4o-mini-transcribe' },
    },
    output: { format: { type: 'audio/pcmu' }, voice: 'marin' },
  },
  tools: [{ type: 'function', name: 'get_store_hours', parameters: { type: 'object' } }],
};

function tone(ms: number): Buffer {
  const samples = new Int16Array(ms * 8);
  for (let i = 0; i < samples.length; i++)
    samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / 8000));
  return Buffer.from(alawmulaw.mulaw.encode(samples));
}

const silence = (ms: number) => Buffer.alloc(ms * 8, 0xff);

describe('the demo model (a local OpenAI Realtime GA stand-in)', () => {
  let model: DemoModel;

  beforeEach(async () => {
    model = new DemoModel();
    await model.start();
  });

  afterEach(() => model.stop());

  it('opens with session.created and answers session.update with the session it applied', async () => {
    const client = await RealtimeClient.open(model.url);
    expect((await client.next('session.created')).session).toMatchObject({ type: 'realtime' });
    client.send({ type: 'session.update', session: SESSION });
    const updated = await client.next('session.updated');
    expect(updated.session).toMatchObject({
      audio: { input: { format: { type: 'audio/pcmu' } }, output: { voice: 'marin' } },
      tools: [{ name: 'get_store_hours' }],
    });
  });

  it('hears speech with server VAD, transcribes it, calls the tool, then speaks and plays it back', async () => {
    const client = await RealtimeClient.open(model.url);
    client.send({ type: 'session.update', session: SESSION });
    await client.next('session.updated');
    client.send({ type: 'input_audio_buffer.append', audio: silence(200).toString('base64') });
    client.send({ type: 'input_audio_buffer.append', audio: tone(800).toString('base64') });
    client.send({ type: 'input_audio_buffer.append', audio: silence(600).toString('base64') });

    const started = await client.next('input_audio_buffer.speech_started');
    expect(started.audio_start_ms).toBeGreaterThanOrEqual(0);
    expect(started.audio_start_ms).toBeLessThanOrEqual(200);
    const stopped = await client.next('input_audio_buffer.speech_stopped');
    expect(stopped.audio_end_ms).toBeGreaterThanOrEqual(950);
    expect(stopped.audio_end_ms).toBeLessThanOrEqual(1100);
    const transcript = await client.next('conversation.item.input_audio_transcription.completed');
    expect(transcript.item_id).toBe(stopped.item_id);
    expect(transcript.transcript).toMatch(/s of speech/);

    const call = await client.next('response.function_call_arguments.done');
    expect(call.name).toBe('get_store_hours');
    expect(JSON.parse(call.arguments as string)).toEqual({ day: expect.any(String) });
    const toolDone = await client.next('response.done');
    client.send({
      type: 'conversation.item.create',
      item: { type: 'function_call_output', call_id: call.call_id, output: '{"hours":"9-5"}' },
    });
    client.send({ type: 'response.create' });

    const at = client.events.indexOf(toolDone) + 1;
    const done = await client.next('response.done', at, 10000);
    expect(done.response).toMatchObject({ status: 'completed' });
    const deltas = client.events
      .slice(at)
      .filter((e) => e.type === 'response.output_audio.delta')
      .map((e) => Buffer.from(e.delta as string, 'base64'));
    const audio = Buffer.concat(deltas);
    // Its sentence, then the 0.8 s the caller said, played back.
    expect(audio.length / 8).toBeGreaterThan(800);
    const said = await client.next('response.output_audio_transcript.done', at);
    expect(said.transcript).toMatch(/get_store_hours says hours 9-5/);
  });

  it('cancels its answer when the caller talks over it, and truncates only audio it produced', async () => {
    const client = await RealtimeClient.open(model.url);
    client.send({ type: 'session.update', session: { ...SESSION, tools: [] } });
    await client.next('session.updated');
    client.send({ type: 'input_audio_buffer.append', audio: tone(1500).toString('base64') });
    client.send({ type: 'input_audio_buffer.append', audio: silence(400).toString('base64') });
    const delta = await client.next('response.output_audio.delta');
    // The caller starts talking while the answer is still streaming.
    client.send({ type: 'input_audio_buffer.append', audio: tone(300).toString('base64') });
    const done = await client.next('response.done');
    expect(done.response).toMatchObject({
      status: 'cancelled',
      status_details: { type: 'cancelled', reason: 'turn_detected' },
    });
    const before = client.events.indexOf(done);
    const sent = client.events
      .slice(0, before)
      .filter((e) => e.type === 'response.output_audio.delta')
      .reduce((ms, e) => ms + Buffer.from(e.delta as string, 'base64').length / 8, 0);
    const item = { type: 'conversation.item.truncate', item_id: delta.item_id, content_index: 0 };
    client.send({ ...item, audio_end_ms: Math.floor(sent) + 500 });
    expect((await client.next('error', before)).error).toMatchObject({
      message: expect.stringMatching(/is already shorter than/),
    });
    client.send({ ...item, audio_end_ms: 100 });
    expect(await client.next('conversation.item.truncated', before)).toMatchObject({
      audio_end_ms: 100,
    });
  });

  it('gives the errors the real server gives for misuse, and the session stays open', async () => {
    const client = await RealtimeClient.open(model.url);
    client.send({ type: 'session.update', session: { input_audio_format: 'g711_ulaw' } });
    expect((await client.next('error')).error).toMatchObject({ code: 'unknown_parameter' });
    client.send({ type: 'response.cancel' });
    await waitUntil(
      () => client.types().filter((t) => t === 'error').length === 2,
      'a second error',
    );
    expect(client.events.at(-1)!.error).toMatchObject({ code: 'response_cancel_not_active' });
    client.send({ type: 'input_audio_buffer.commit' });
    await waitUntil(
      () => client.types().filter((t) => t === 'error').length === 3,
      'a third error',
    );
    expect(client.events.at(-1)!.error).toMatchObject({ code: 'input_audio_buffer_commit_empty' });
    expect(client.closeCode).toBeUndefined();
  });

  it('refuses a missing key with 401 and the retired beta header as OpenAI does', async () => {
    await expect(
      new Promise((resolve, reject) => {
        const socket = new WebSocket(model.url);
        socket.once('unexpected-response', (_req, res) => resolve(res.statusCode));
        socket.once('open', () => reject(new Error('opened without a key')));
      }),
    ).resolves.toBe(401);
    const beta = await RealtimeClient.open(model.url, { 'OpenAI-Beta': 'realtime=v1' });
    expect((await beta.next('error')).error).toMatchObject({ code: 'beta_api_shape_disabled' });
    await waitUntil(() => beta.closeCode !== undefined, 'the close');
  });
});

describe('npm run demo (the bridge, the demo model and the simulator, in one process)', () => {
  let demo: DemoSetup | undefined;
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'demo-'))));
  afterEach(async () => {
    await demo?.close();
    demo = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  function options(overrides: Partial<SimulationOptions>): SimulationOptions {
    return {
      url: '',
      accountSid: TEST_ACCOUNT_SID,
      from: '+15550001111',
      to: '+15550002222',
      input: { kind: 'file', path: defaultSamplePath() },
      speaker: false,
      outPath: join(dir, 'reply.wav'),
      tailMs: 2000,
      maxReplyWaitMs: 15000,
      verbose: false,
      ...overrides,
    };
  }

  it('completes a call with a tool call, a reply and the call record, and exits 0', async () => {
    const lines: string[] = [];
    demo = await startDemo((line) => lines.push(line));
    const stderr: string[] = [];
    const simulation = new Simulation(
      options({ url: demo.url, authToken: demo.authToken, apiToken: demo.apiToken }),
      { write: (text: string) => stderr.push(text) },
    );
    const result = await simulation.run();
    const output = stderr.join('');

    expect(result.exitCode).toBe(0);
    expect(output).toMatch(/caller: \[\d\.\d s of speech/);
    expect(output).toMatch(/tool get_store_hours\(\{"day":"\w+"\}\) -> \{"day":/);
    expect(output).toMatch(/assistant: get_store_hours says day \w+, hours/);
    expect(result.record).toMatchObject({
      outcome: 'completed',
      turns: { caller: 1, assistant: 1 },
    });
    expect(output).toContain("the bridge's call record: completed");
    // The reply, as the caller heard it: the sentence, then about the sample's speech again.
    const speechMs = loadCallerAudio(defaultSamplePath()).mulaw.length / 8;
    expect(result.stats!.playedMs).toBeGreaterThan(speechMs * 0.7);
    expect(readFileSync(result.outPath!).length).toBeGreaterThan(44 + result.stats!.playedMs * 16);
    expect(lines.join('\n')).not.toMatch(/bridge (warning|error)/);
  }, 40000);
});

describe('the simulator tells the truth', () => {
  let bridge: RunningBridge;
  afterEach(() => bridge?.close());

  it('exits 1 with the reason when the bridge cannot reach its model (the demo model stopped)', async () => {
    const model = new DemoModel();
    await model.start();
    const url = model.url;
    await model.stop();
    bridge = await startBridge({ OPENAI_REALTIME_URL: url, OPENAI_CONNECT_TIMEOUT_MS: '500' });
    const dir = mkdtempSync(join(tmpdir(), 'truth-'));
    try {
      const simulation = new Simulation(
        {
          url: bridge.baseUrl,
          authToken: TEST_AUTH_TOKEN,
          accountSid: TEST_ACCOUNT_SID,
          from: '+15550001111',
          to: '+15550002222',
          input: { kind: 'file', path: defaultSamplePath() },
          speaker: false,
          outPath: join(dir, 'reply.wav'),
          tailMs: 1000,
          // The bridge backs off between its connection attempts (about 9 s in all) before it
          // gives up; the caller must still be on the line by then to hear the outcome.
          maxReplyWaitMs: 20000,
          verbose: false,
        },
        { write: () => undefined },
      );
      const result = await simulation.run();
      expect(result.exitCode).toBe(1);
      expect(result.endReason).toMatch(
        /^the call failed: could not connect to OpenAI Realtime after \d+ attempts/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 45000);
});
