import type { CallEnding } from '../call/call-ending.js';
import type { CallRecorder } from '../call/call-recorder.js';
import { ResponseScheduler } from '../call/response-scheduler.js';
import { BargeIn } from './barge-in.js';
import type { OperatorLine } from './operator-line.js';
import type { RealtimeLink } from './realtime-link.js';
import type { TwilioMediaLink } from './twilio-media-link.js';

/** A barge-in over stand-ins: nothing plays yet, and the scheduler is real. */
function bargeIn(playing: boolean) {
  const sent: string[] = [];
  const scheduler = new ResponseScheduler(
    {
      isOpen: true,
      send: (event) => {
        sent.push(event.type);
        return `evt-${sent.length}`;
      },
    },
    { warn: () => undefined, debug: () => undefined },
    { responseProblem: () => undefined },
    { recoveryMessage: 'Sorry?' },
  );
  const media = {
    playback: { isPlaying: playing },
    interrupt: () => ({ cuts: [] }),
  } as unknown as TwilioMediaLink;
  const barge = new BargeIn(
    media,
    { send: () => undefined } as unknown as RealtimeLink,
    scheduler,
    { stats: { bargeIns: 0 }, interrupted: () => undefined } as unknown as CallRecorder,
    { finishIfPlayed: () => undefined } as unknown as CallEnding,
    { held: false } as OperatorLine,
  );
  return { barge, scheduler, sent };
}

describe('BargeIn', () => {
  it('drops the in-flight audio of a response the caller speaks over before any of it played', () => {
    const { barge, scheduler, sent } = bargeIn(false);
    scheduler.onCreated({ id: 'resp_1', metadata: null });
    barge.interrupt(0, 'speech');
    expect(scheduler.isDiscarded('resp_1')).toBe(true);
    // The server cancels it itself (interrupt_response): nothing is sent.
    expect(sent).toEqual([]);
  });

  it('leaves a response alone on a key press before any audio (the keypad flow decides)', () => {
    const { barge, scheduler } = bargeIn(false);
    scheduler.onCreated({ id: 'resp_1', metadata: null });
    barge.interrupt(0, 'keypad');
    expect(scheduler.isDiscarded('resp_1')).toBe(false);
  });
});
