import { ConflictException } from '@nestjs/common';
import type { CallDirectory } from '../directory/call-directory.js';
import { CallEventBus } from '../events/call-event-bus.js';
import { HistoryErasure } from './history-erasure.js';
import { HistoryEvent } from './history.constants.js';
import type { HistoryWriter } from './history-writer.js';
import { LIVE_CALL_REFUSAL, LiveCallCheck } from './live-call-check.js';
import type { CallRegistry } from '../call/call-registry.service.js';

const CALL_SID = `CA${'0123456789abcdef'.repeat(2)}`;
const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** An erasure over fakes: `record` says whether the writer finds one, `recording` the recorder. */
function erasureOf(options: {
  record: boolean;
  recording: boolean;
  live?: 'here' | 'elsewhere';
  /** The call becomes live (here or elsewhere) while its record is being erased. */
  liveAfterRecord?: 'here' | 'elsewhere';
}) {
  const writes: string[] = [];
  const told: string[] = [];
  const recordings: string[] = [];
  const writer = {
    erase: (callSid: string) => {
      writes.push(callSid);
      if (options.liveAfterRecord) options.live = options.liveAfterRecord;
      return Promise.resolve(options.record);
    },
  } as unknown as HistoryWriter;
  const registry = {
    get: (callSid: string) => (options.live === 'here' ? { callSid } : undefined),
  } as unknown as CallRegistry;
  const directory = {
    listing: () =>
      Promise.resolve({
        calls: options.live === 'elsewhere' ? [{ callSid: CALL_SID }] : [],
        partial: false,
      }),
    eraseCall: (callSid: string) => {
      told.push(callSid);
      return Promise.resolve();
    },
  } as unknown as CallDirectory;
  const events = new CallEventBus();
  // As the recorder answers (emitAsync collects the promise): whether there was a recording.
  events.on(HistoryEvent.Erased, ({ callSid }: { callSid: string }): void => {
    recordings.push(callSid);
    return Promise.resolve(options.recording) as unknown as void;
  });
  const erasure = new HistoryErasure(
    writer,
    new LiveCallCheck(registry, directory),
    directory,
    events,
    quiet,
  );
  return { erasure, writes, told, recordings };
}

describe('HistoryErasure', () => {
  it.each([
    ['a record and a recording', true, true],
    ['a record only', true, false],
    ['a recording only (its record was dropped)', false, true],
  ])('erases a call with %s, and tells every instance', async (_, record, recording) => {
    const { erasure, writes, told } = erasureOf({ record, recording });
    await expect(erasure.erase(CALL_SID)).resolves.toBeUndefined();
    expect(writes).toEqual([CALL_SID]);
    expect(told).toEqual([CALL_SID]);
  });

  it('answers 404 when there is neither a record nor a recording', async () => {
    const { erasure } = erasureOf({ record: false, recording: false });
    await expect(erasure.erase(CALL_SID)).rejects.toMatchObject({
      status: 404,
      message: `no record or recording of call ${CALL_SID}`,
    });
  });

  it.each(['here', 'elsewhere'] as const)(
    'refuses a call live %s with 409, touching nothing',
    async (live) => {
      const { erasure, writes, told } = erasureOf({ record: true, recording: true, live });
      const refused = erasure.erase(CALL_SID);
      await expect(refused).rejects.toBeInstanceOf(ConflictException);
      await expect(refused).rejects.toMatchObject({ message: LIVE_CALL_REFUSAL });
      expect(writes).toEqual([]);
      expect(told).toEqual([]);
    },
  );

  it.each(['here', 'elsewhere'] as const)(
    'refuses with 409 a call that became live %s while its record was erased, its recording untouched',
    async (live) => {
      // An outbound call has its CallSid while it rings: it may go live during the record's erasure.
      const { erasure, writes, told, recordings } = erasureOf({
        record: false,
        recording: true,
        liveAfterRecord: live,
      });
      const refused = erasure.erase(CALL_SID);
      await expect(refused).rejects.toBeInstanceOf(ConflictException);
      await expect(refused).rejects.toMatchObject({ message: LIVE_CALL_REFUSAL });
      expect(writes).toEqual([CALL_SID]);
      expect(told).toEqual([]);
      expect(recordings).toEqual([]);
    },
  );
});
