import type { CallEnding } from '../call/call-ending.js';
import type { CallRecorder } from '../call/call-recorder.js';
import { ResponseScheduler } from '../call/response-scheduler.js';
import { BargeIn } from './barge-in.js';
import type { OperatorLine } from './operator-line.js';
import type { RealtimeLink } from './realtime-link.js';
import type { TwilioMediaLink } from './twilio-media-link.js';
import type { TurnDetection } from '../realtime/realtime-outbound.js';

const SERVER_VAD: TurnDetection = {
  type: 'server_vad',
  create_response: true,
  interrupt_response: true,
};

/**
 * A barge-in over stand-ins, the scheduler real. `playing`: responses whose audio still plays
 * (the playback clock cuts them); none means nothing plays.
 */
function bargeIn(playing: string[] = [], turnDetection: TurnDetection = SERVER_VAD) {
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
    playback: { isPlaying: playing.length > 0 },
    interrupt: () => ({
      cuts: playing.map((responseId) => ({
        responseId,
        itemId: `item_${responseId}`,
        contentIndex: 0,
        audioEndMs: 400,
      })),
    }),
  } as unknown as TwilioMediaLink;
  const barge = new BargeIn(
    media,
    { send: () => undefined } as unknown as RealtimeLink,
    scheduler,
    { stats: { bargeIns: 0 }, interrupted: () => undefined } as unknown as CallRecorder,
    { finishIfPlayed: () => undefined } as unknown as CallEnding,
    { held: false } as OperatorLine,
    { turnDetection },
  );
  return { barge, scheduler, sent };
}

describe('BargeIn', () => {
  it('drops the in-flight audio of a response the caller speaks over before any of it played', () => {
    const { barge, scheduler, sent } = bargeIn();
    scheduler.onCreated({ id: 'resp_1', metadata: null });
    barge.interrupt(0, 'speech');
    expect(scheduler.isDiscarded('resp_1')).toBe(true);
    // The server cancels it itself (interrupt_response): nothing is sent.
    expect(sent).toEqual([]);
  });

  it('leaves a response alone on a key press before any audio (the keypad flow decides)', () => {
    const { barge, scheduler } = bargeIn();
    scheduler.onCreated({ id: 'resp_1', metadata: null });
    barge.interrupt(0, 'keypad');
    expect(scheduler.isDiscarded('resp_1')).toBe(false);
  });

  it('drops a response asked while an earlier one still played, as the caller speaks over both', () => {
    const { barge, scheduler, sent } = bargeIn(['resp_1']);
    // resp_1 still plays at Twilio; a tool's answer (resp_2) is being generated, no audio yet.
    scheduler.onCreated({ id: 'resp_2', metadata: null });
    barge.interrupt(0, 'speech');
    expect(scheduler.isDiscarded('resp_1')).toBe(true);
    expect(scheduler.isDiscarded('resp_2')).toBe(true);
    expect(sent).toEqual([]);
  });

  it('cancels the answer itself when the call says the server must not (interrupt_response false)', () => {
    const noServerCancel = { ...SERVER_VAD, interrupt_response: false };
    for (const playing of [[], ['resp_1']]) {
      const { barge, scheduler, sent } = bargeIn(playing, noServerCancel);
      scheduler.onCreated({ id: 'resp_1', metadata: null });
      barge.interrupt(0, 'speech');
      expect(scheduler.isDiscarded('resp_1')).toBe(true);
      expect(sent).toEqual(['response.cancel']);
    }
  });

  it('cancels the answer on a key press over audio that plays', () => {
    const { barge, scheduler, sent } = bargeIn(['resp_1']);
    scheduler.onCreated({ id: 'resp_1', metadata: null });
    barge.interrupt(0, 'keypad');
    expect(scheduler.isDiscarded('resp_1')).toBe(true);
    expect(sent).toEqual(['response.cancel']);
  });

  it('stops a response it asked for that the server creates only after the caller began', () => {
    const { barge, scheduler, sent } = bargeIn(['resp_1']);
    // A tool's answer asked while resp_1 plays; the caller speaks before it is created.
    scheduler.onCreated({ id: 'resp_1', metadata: null });
    scheduler.onDone({ id: 'resp_1', status: 'completed' }, () => undefined);
    scheduler.request({ reason: 'tool output' });
    barge.interrupt(0, 'speech');
    scheduler.onCreated({ id: 'resp_2', metadata: { bridge_request: 'r1' } });
    expect(scheduler.isDiscarded('resp_2')).toBe(true);
    expect(sent).toEqual(['response.create', 'response.cancel']);
    // The server's own answer to the caller's turn, after it, is left alone.
    scheduler.onDone({ id: 'resp_2', status: 'cancelled' }, () => undefined);
    scheduler.onCreated({ id: 'resp_3', metadata: null });
    expect(scheduler.isDiscarded('resp_3')).toBe(false);
    expect(sent).toHaveLength(2);
  });
});
