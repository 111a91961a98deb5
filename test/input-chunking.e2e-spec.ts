import { frames20ms, mulawTone } from './support/audio.js';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioCall } from './support/fake-twilio.js';
import { sleep, waitUntil } from './support/wait.js';

/** INPUT_AUDIO_CHUNK_MS: caller audio reaches OpenAI in fewer, larger appends, nothing lost. */
describe('caller audio in chunks (INPUT_AUDIO_CHUNK_MS)', () => {
  let openai: FakeRealtimeServer;
  let bridge: RunningBridge;

  async function startWith(env: Record<string, string>) {
    openai = new FakeRealtimeServer();
    await openai.start();
    bridge = await startBridge({ OPENAI_REALTIME_URL: openai.url, ...env });
  }

  /** A call whose Realtime session is configured, ready for caller audio. */
  async function dialed() {
    const call = await FakeTwilioCall.dial(bridge.baseUrl);
    const upstream = await openai.connection(0);
    await upstream.waitFor('session.update');
    return { call, upstream };
  }

  afterEach(async () => {
    await bridge?.close();
    await openai?.stop();
  });

  const appendSizes = (upstream: Awaited<ReturnType<FakeRealtimeServer['connection']>>) =>
    upstream
      .eventsOfType('input_audio_buffer.append')
      .map((event) => Buffer.from(event.audio as string, 'base64').length);

  it('joins 20 ms mu-law frames into 100 ms appends, byte for byte, and sends the tail when the frames stop', async () => {
    await startWith({ AUDIO_INPUT_FORMAT: 'g711_ulaw', INPUT_AUDIO_CHUNK_MS: '100' });
    const { call, upstream } = await dialed();
    // 440 ms: four whole chunks and a 40 ms tail that no later frame completes.
    const audio = mulawTone(440, 440);
    for (const frame of frames20ms(audio)) call.sendMedia(frame);

    await waitUntil(() => upstream.appendedAudio().length === audio.length, 'all audio appended');
    expect(upstream.appendedAudio().equals(audio)).toBe(true);
    expect(appendSizes(upstream)).toEqual([800, 800, 800, 800, 320]);
  });

  it('converts pcm16 per frame and appends 24 kHz PCM16 in chunks of the same length of time', async () => {
    await startWith({ AUDIO_INPUT_FORMAT: 'pcm16', INPUT_AUDIO_CHUNK_MS: '60' });
    const { call, upstream } = await dialed();
    for (const frame of frames20ms(mulawTone(440, 120))) call.sendMedia(frame);
    // 60 ms of 24 kHz PCM16 is 2880 bytes (three 960-byte frames).
    await waitUntil(() => appendSizes(upstream).length === 2, 'two appends');
    expect(appendSizes(upstream)).toEqual([2880, 2880]);
  });

  it('sends the audio the caller spoke before anything else the call sends to OpenAI', async () => {
    await startWith({ AUDIO_INPUT_FORMAT: 'g711_ulaw', INPUT_AUDIO_CHUNK_MS: '200' });
    const { call, upstream } = await dialed();
    const audio = mulawTone(300, 60);
    for (const frame of frames20ms(audio)) call.sendMedia(frame);
    await sleep(50); // the frames are in, held for their chunk
    expect(upstream.eventsOfType('input_audio_buffer.append')).toEqual([]);
    call.send({
      event: 'dtmf',
      streamSid: call.streamSid,
      dtmf: { track: 'inbound_track', digit: '7' },
    });

    await upstream.waitFor('conversation.item.create');
    const types = upstream.received.map((event) => event.type);
    const append = types.indexOf('input_audio_buffer.append');
    expect(append).toBeGreaterThan(-1);
    expect(append).toBeLessThan(types.indexOf('conversation.item.create'));
    expect(upstream.appendedAudio().equals(audio)).toBe(true);
  });

  it('gives a part-chunk held when the session drops to the session that replaces it', async () => {
    await startWith({ AUDIO_INPUT_FORMAT: 'g711_ulaw', INPUT_AUDIO_CHUNK_MS: '200' });
    const { call, upstream: first } = await dialed();
    const audio = mulawTone(500, 80);
    for (const frame of frames20ms(audio)) call.sendMedia(frame);
    await sleep(50);
    first.socket.terminate();

    const second = await openai.connection(1);
    await waitUntil(() => second.appendedAudio().length === audio.length, 'the held audio');
    expect(first.eventsOfType('input_audio_buffer.append')).toEqual([]);
    expect(second.appendedAudio().equals(audio)).toBe(true);
    const types = second.received.map((event) => event.type);
    expect(types.indexOf('session.update')).toBeLessThan(
      types.indexOf('input_audio_buffer.append'),
    );
  });
});
