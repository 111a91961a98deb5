import type { CallEndedEvent } from '../events/call-events.js';
import { DEFAULT_PRICES } from '../config/history-env.js';
import { emptyTokenUsage } from '../call/token-usage.js';
import { costOf, recordOf } from './history-record.js';

const usage = {
  ...emptyTokenUsage(),
  inputAudioTokens: 1000,
  inputTextTokens: 500,
  inputCachedTokens: 700,
  outputAudioTokens: 2000,
  outputTextTokens: 100,
};

describe('a call record', () => {
  it('keeps a SIP call, its turns timed from the start, with tools and cost', () => {
    const ended = {
      event: 'call.ended',
      callSid: 'rtc_abc123',
      streamSid: 'rtc_abc123',
      transport: 'sip',
      at: '2026-01-01T00:01:00.000Z',
      direction: 'inbound',
      from: '+15550001111',
      startedAt: '2026-01-01T00:00:00.000Z',
      endedAt: '2026-01-01T00:01:00.000Z',
      model: 'gpt-realtime',
      reason: 'caller hung up',
      outcome: 'completed',
      durationS: 60,
      latency: {},
      turns: { caller: 1, assistant: 1 },
      turnsOmitted: 3,
      transcript: [
        { role: 'caller', text: 'Hello', at: '2026-01-01T00:00:02.500Z' },
        { role: 'assistant', text: 'Hi, how', at: '2026-01-01T00:00:04.000Z', interrupted: true },
        { role: 'caller', text: '1 2', at: '2026-01-01T00:00:09.000Z', keypad: true },
      ],
      tools: [{ name: 'lookup', arguments: { id: 1 }, output: '{}', ok: true, ms: 12 }],
      interruptions: 1,
      reconnects: 0,
      usage,
      frames: { in: 0, out: 0, dropped: 0 },
    } as CallEndedEvent;

    const record = recordOf(ended, DEFAULT_PRICES);

    expect(record).toMatchObject({
      callSid: 'rtc_abc123',
      transport: 'sip',
      to: null,
      profile: null,
      recording: null,
      tools: ended.tools,
      turnsOmitted: 3,
    });
    expect(record.transcript).toEqual([
      { role: 'caller', text: 'Hello', atMs: 2500 },
      { role: 'assistant', text: 'Hi, how', atMs: 4000, interrupted: true },
      { role: 'caller', text: '1 2', atMs: 9000, keypad: true },
    ]);
    expect(record.costUsd).toBe(costOf(usage, DEFAULT_PRICES['gpt-realtime']));
  });

  it('prices cached input off text first, and is null for an unknown model', () => {
    const price = {
      audioInput: 32,
      audioOutput: 64,
      textInput: 4,
      textOutput: 16,
      cachedInput: 0.4,
    };
    // 500 cached text + 200 cached audio at 0.4; 800 audio at 32; 2000 audio out at 64; 100 text out at 16.
    const expected = (700 * 0.4 + 800 * 32 + 2000 * 64 + 100 * 16) / 1_000_000;
    expect(costOf(usage, price)).toBeCloseTo(expected, 6);
    expect(costOf(usage, undefined)).toBeNull();
  });
});
