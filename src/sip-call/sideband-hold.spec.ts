import { realtimeOutbound } from '../realtime/realtime-outbound.js';
import { carriedBySideband, MAX_HELD_SIDEBAND_EVENTS, SidebandHold } from './sideband-hold.js';

function harness() {
  const warnings: string[] = [];
  const debug: string[] = [];
  const log = {
    warn: (msg: string) => warnings.push(msg),
    debug: (msg: string | (() => string)) => debug.push(typeof msg === 'string' ? msg : msg()),
  };
  return { hold: new SidebandHold(log), warnings, debug };
}

describe('SidebandHold (what a SIP call sent while its sideband was down)', () => {
  it('holds conversation items and session changes, in the order sent, and hands them back once', () => {
    const { hold } = harness();
    const keys = realtimeOutbound.userText('[The caller pressed 4 2 on their phone keypad.]', 'k1');
    const change = realtimeOutbound.sessionChange({ instructions: 'Offer the tracking link.' });
    const output = realtimeOutbound.functionCallOutput('call_1', '{"status":"shipped"}', 't1');
    hold.add(keys);
    hold.add(change);
    hold.add(output);

    expect(hold.release()).toEqual([keys, change, output]);
    expect(hold.release()).toEqual([]);
  });

  it('drops, saying why, what acts on the moment it was sent: response.create, response.cancel, output_audio_buffer.clear', () => {
    const { hold, debug } = harness();
    hold.add(realtimeOutbound.responseCreate());
    hold.add(realtimeOutbound.responseCancel('resp_1'));
    hold.add(realtimeOutbound.outputAudioClear());

    expect(hold.release()).toEqual([]);
    expect(debug).toEqual([
      expect.stringMatching(
        /^response\.create dropped while the sideband is down: ResponseScheduler/,
      ),
      expect.stringMatching(/^response\.cancel dropped .*late cancel/),
      expect.stringMatching(/^output_audio_buffer\.clear dropped .*cut what plays/),
    ]);
  });

  it(`holds at most MAX_HELD_SIDEBAND_EVENTS (${MAX_HELD_SIDEBAND_EVENTS}): later ones are dropped, warned of when the bound is hit and counted at the reopen`, () => {
    const { hold, warnings } = harness();
    const items = Array.from({ length: MAX_HELD_SIDEBAND_EVENTS + 3 }, (_, n) =>
      realtimeOutbound.userText(`turn ${n}`),
    );
    for (const item of items) hold.add(item);
    hold.add(realtimeOutbound.sessionChange({ instructions: 'late' }));

    expect(warnings).toEqual([
      `sideband down with ${MAX_HELD_SIDEBAND_EVENTS} client events held (MAX_HELD_SIDEBAND_EVENTS): conversation.item.create and any more sent before it reopens are dropped, never reaching the model`,
    ]);
    // The first ones, in order: what reaches the model is what was sent, up to a point.
    expect(hold.release()).toEqual(items.slice(0, MAX_HELD_SIDEBAND_EVENTS));
    expect(warnings[1]).toBe(
      `sideband reopened: sending the ${MAX_HELD_SIDEBAND_EVENTS} held client events; dropped over MAX_HELD_SIDEBAND_EVENTS: 3 conversation.item.create, 1 session.update`,
    );

    // The next outage starts with a free hold and a fresh warning.
    hold.add(items[0]);
    expect(hold.release()).toEqual([items[0]]);
    expect(warnings).toHaveLength(2);
  });

  it('frees what it holds when the call ends', () => {
    const { hold, warnings } = harness();
    for (let n = 0; n <= MAX_HELD_SIDEBAND_EVENTS; n++) hold.add(realtimeOutbound.userText('x'));
    hold.clear();
    expect(hold.release()).toEqual([]);
    expect(warnings).toHaveLength(1);
  });

  it('names the events a sideband carries: never audio', () => {
    expect(carriedBySideband('conversation.item.create')).toBe(true);
    expect(carriedBySideband('output_audio_buffer.clear')).toBe(true);
    expect(carriedBySideband('input_audio_buffer.append')).toBe(false);
    expect(carriedBySideband('toString')).toBe(false);
  });
});
