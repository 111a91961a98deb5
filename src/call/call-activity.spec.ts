import alawmulaw from 'alawmulaw';
import { SILENCE_DBFS } from '../audio/audio-level.js';
import { sine } from '../audio/testing/signal.js';
import type { RealtimeServerEvent } from '../realtime/realtime.events.js';
import { CallActivity } from './call-activity.js';

const T0 = 1_000_000;
/** `ms` of a 440 Hz tone at `amplitude`, base64 mu-law as Twilio and OpenAI carry it. */
const tone = (ms: number, amplitude: number) =>
  Buffer.from(alawmulaw.mulaw.encode(sine(440, 8000, ms * 8, amplitude))).toString('base64');
const event = (e: object) => e as RealtimeServerEvent;
const session = event({ type: 'session.created', session: {} });

describe('CallActivity', () => {
  it('is connecting until the Realtime session exists, then talking', () => {
    const activity = new CallActivity(T0);
    expect(activity.status(T0).state).toBe('connecting');
    activity.realtimeEvent(session, T0 + 10);
    expect(activity.status(T0 + 10).state).toBe('talking');
  });

  it('is assistant-speaking while the audio sent would still be playing', () => {
    const activity = new CallActivity(T0);
    activity.realtimeEvent(session, T0);
    activity.assistantAudio(tone(1000, 8000), T0 + 100); // plays until T0 + 1100
    expect(activity.status(T0 + 1000).state).toBe('assistant-speaking');
    expect(activity.status(T0 + 1200).state).toBe('talking');
  });

  it('stops assistant-speaking at once when the caller barges in', () => {
    const activity = new CallActivity(T0);
    activity.realtimeEvent(session, T0);
    activity.assistantAudio(tone(3000, 8000), T0);
    activity.realtimeEvent(event({ type: 'input_audio_buffer.speech_started' }), T0 + 500);
    expect(activity.status(T0 + 600).state).toBe('talking');
  });

  it('is on-tool from the function call until its output', () => {
    const activity = new CallActivity(T0);
    activity.realtimeEvent(session, T0);
    const call = { response_id: 'r1', call_id: 'c1', name: 'lookup', arguments: '{}' };
    activity.realtimeEvent(event({ type: 'response.function_call_arguments.done', ...call }), T0);
    activity.realtimeEvent(event({ type: 'response.output_item.done', ...call }), T0);
    expect(activity.status(T0).state).toBe('on-tool');
    expect(activity.status(T0).pendingTools).toBe(1);
    activity.toolFinished('c1');
    expect(activity.status(T0).state).toBe('talking');
  });

  it('measures the first audio and the response latency of each turn', () => {
    const activity = new CallActivity(T0);
    activity.assistantAudio(tone(100, 8000), T0 + 700);
    activity.realtimeEvent(event({ type: 'input_audio_buffer.speech_stopped' }), T0 + 5000);
    activity.assistantAudio(tone(100, 8000), T0 + 5450);
    activity.assistantAudio(tone(100, 8000), T0 + 5500); // same answer: no new turn
    expect(activity.status().firstAudioMs).toBe(700);
    expect(activity.status().responseLatencyMs).toEqual([450]);
  });

  it('meters nothing while nobody watches', () => {
    const activity = new CallActivity(T0);
    activity.callerAudio(tone(20, 16000));
    activity.assistantAudio(tone(200, 16000), T0);
    expect(activity.readLevels(T0 + 100)).toEqual({
      caller: SILENCE_DBFS,
      assistant: SILENCE_DBFS,
    });
  });

  it('meters the caller since the last reading, and the assistant as it plays out', () => {
    const activity = new CallActivity(T0);
    activity.metering = true;
    for (let i = 0; i < 10; i++) activity.callerAudio(tone(20, 16000));
    // 200 ms loud, received at once at T0 but heard from T0 to T0 + 200.
    activity.assistantAudio(tone(200, 16000), T0);
    const during = activity.readLevels(T0 + 200);
    expect(during.caller).toBeGreaterThan(-10);
    expect(during.caller).toBeLessThan(-8);
    expect(during.assistant).toBeGreaterThan(-10);
    // Nothing more from the caller, and the assistant's audio has finished playing.
    const after = activity.readLevels(T0 + 400);
    expect(after).toEqual({ caller: SILENCE_DBFS, assistant: SILENCE_DBFS });
  });

  it('attributes assistant audio received early to the time it plays', () => {
    const activity = new CallActivity(T0);
    activity.metering = true;
    activity.assistantAudio(tone(200, 16000), T0); // plays T0 .. T0 + 200
    activity.assistantAudio(tone(200, 2000), T0); // queued: plays T0 + 200 .. T0 + 400
    const first = activity.readLevels(T0 + 200);
    const second = activity.readLevels(T0 + 400);
    expect(first.assistant - second.assistant).toBeGreaterThan(15);
  });
});
