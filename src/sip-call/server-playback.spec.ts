import { jest } from '@jest/globals';
import type { CallContext } from '../call/call-context.js';
import { CallLogger } from '../call/call-logger.js';
import { CallRecorder } from '../call/call-recorder.js';
import { ResponseScheduler } from '../call/response-scheduler.js';
import { CallEventBus } from '../events/call-event-bus.js';
import type { AnyCallEvent } from '../events/call-events.js';
import type { BridgeMetrics } from '../metrics/bridge-metrics.service.js';
import type { RealtimeClientEvent } from '../realtime/realtime-outbound.js';
import { ServerPlayback, ServerPlaybackState } from './server-playback.js';

/** A SIP call's playback with real recorder and scheduler around it, and a recording channel. */
function harness() {
  const sent: RealtimeClientEvent[] = [];
  const events: AnyCallEvent[] = [];
  const emitter = new CallEventBus();
  emitter.on('call.*', (event: AnyCallEvent) => events.push(event));
  const context = {
    callSid: 'rtc_1',
    streamSid: 'rtc_1',
    transport: 'sip',
    startedAt: new Date(),
    customParameters: {},
  } as unknown as CallContext;
  const log = new CallLogger('test', { callSid: 'rtc_1', streamSid: 'rtc_1' });
  const metrics = {
    observeFirstAudio: () => undefined,
    observeResponseLatency: () => undefined,
    responseProblem: () => undefined,
  } as unknown as BridgeMetrics;
  const channel = {
    isOpen: true,
    send: (event: RealtimeClientEvent) => {
      sent.push(event);
      return `e${sent.length}`;
    },
    close: () => undefined,
  };
  const recorder = new CallRecorder(context, emitter, metrics, log);
  const scheduler = new ResponseScheduler(channel, log, metrics, { recoveryMessage: 'Sorry?' });
  let idle = 0;
  const playback = new ServerPlayback(
    new ServerPlaybackState(),
    recorder,
    scheduler,
    channel,
    { finishIfPlayed: () => idle++ },
    { run: (action) => action() },
    log,
  );
  const transcripts = () =>
    events.filter((e) => e.event === 'call.transcript').map((e) => (e as { text: string }).text);
  return { playback, recorder, scheduler, sent, events, transcripts, idle: () => idle };
}

/** The server reports an assistant transcript of a response, as it does on the sideband. */
function said(h: ReturnType<typeof harness>, responseId: string, itemId: string, text: string) {
  h.recorder.observe({
    type: 'response.output_audio_transcript.done',
    item_id: itemId,
    transcript: text,
    response_id: responseId,
  });
  h.playback.transcript(itemId, responseId);
}

describe('ServerPlayback (SIP: the server plays the audio)', () => {
  afterEach(() => jest.useRealTimers());

  it("reports an assistant turn once the server's output audio for its response stopped", () => {
    const h = harness();
    h.playback.started('resp_1');
    said(h, 'resp_1', 'item_a1', 'We open at nine.');
    h.playback.responseDone({ id: 'resp_1', status: 'completed', output: [] });
    expect(h.playback.isPlaying).toBe(true);
    expect(h.transcripts()).toEqual([]);

    h.playback.stopped('resp_1');

    expect(h.playback.isPlaying).toBe(false);
    expect(h.transcripts()).toEqual(['We open at nine.']);
    expect(h.idle()).toBeGreaterThan(0);
  });

  it('times a response the server sent no output-audio events for from its transcript', () => {
    jest.useFakeTimers();
    const h = harness();
    const output = [
      { id: 'item_a1', type: 'message', role: 'assistant', content: [{ transcript: 'Goodbye!' }] },
    ];
    said(h, 'resp_1', 'item_a1', 'Goodbye!');
    h.playback.responseDone({ id: 'resp_1', status: 'completed', output });
    // 8 characters at 15 a second (533 ms) + the 750 ms margin.
    jest.advanceTimersByTime(1200);
    expect(h.playback.isPlaying).toBe(true);
    jest.advanceTimersByTime(200);
    expect(h.playback.isPlaying).toBe(false);
    expect(h.transcripts()).toEqual(['Goodbye!']);
  });

  it('interrupts on a key press with response.cancel and output_audio_buffer.clear, and records the cut as by keypad', () => {
    const h = harness();
    h.scheduler.request({ reason: 'test' });
    h.scheduler.onCreated({ id: 'resp_1' });
    h.playback.started('resp_1');
    said(h, 'resp_1', 'item_a1', 'We open at nine on weekdays and at ten on Saturdays.');

    h.playback.interrupt(performance.now(), 'keypad');
    h.playback.cleared('resp_1');
    h.playback.truncated('item_a1', 1500);

    expect(h.sent.map((event) => event.type)).toEqual([
      'response.create',
      'response.cancel',
      'output_audio_buffer.clear',
    ]);
    expect(h.events.find((e) => e.event === 'call.interrupted')).toMatchObject({
      itemId: 'item_a1',
      audioEndMs: 1500,
      by: 'keypad',
    });
    expect(h.recorder.stats.bargeIns).toBe(1);
    expect(h.recorder.memory.turns()).toEqual([
      expect.objectContaining({ role: 'assistant', interrupted: true, text: 'We open at nine on' }),
    ]);
  });

  it('does nothing on a key press when nothing is playing', () => {
    const h = harness();
    h.playback.interrupt(performance.now(), 'keypad');
    expect(h.sent).toEqual([]);
  });
});
