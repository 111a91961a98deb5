import {
  HttpException,
  InternalServerErrorException,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { CallDirectory } from '../directory/call-directory.js';
import type { CallEventBus } from '../events/call-event-bus.js';
import { ERASE_ANSWER_MS, HistoryEvent } from './history.constants.js';
import type { HistoryWriter, HistoryWriterLog } from './history-writer.js';
import type { LiveCallCheck } from './live-call-check.js';

/** How the 503 and the docs put it: a client must not take a 503 for an erasure done. */
export const ERASURE_NOT_GUARANTEED =
  'it is guaranteed only once a DELETE answers 204: send it again until one does';

/**
 * An erasure request (`DELETE .../history/:callSid`): the record, the recording and what every
 * instance remembers of an ended call. A call whose record never reached the database (dropped
 * from a full queue, refused, or lost with its process) still has its recording erased: a
 * person asking for erasure is not told "not found" while their voice is kept.
 */
export class HistoryErasure {
  constructor(
    private readonly writer: HistoryWriter,
    private readonly live: LiveCallCheck,
    private readonly directory: CallDirectory,
    private readonly events: CallEventBus,
    private readonly log: HistoryWriterLog,
  ) {}

  /**
   * 409 for a live call, before anything is touched (and for one live by the time its
   * recording would be, which the record's erasure did not touch either). Otherwise the record goes (after any write
   * of the call still on its way), then what else is kept of the call; 404 only when there was
   * neither a record nor a recording. A database that does not answer within ERASE_ANSWER_MS
   * gets a 503: the erasure stays queued in this process only, and is done if it answers.
   */
  async erase(callSid: string): Promise<void> {
    await this.live.refuseLive(callSid);
    const erasing = this.writer
      .erase(callSid)
      .then((hadRecord) => this.eraseKept(callSid, hadRecord));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>(
      (resolve) => (timer = setTimeout(resolve, ERASE_ANSWER_MS, 'late')),
    );
    try {
      const erased = await Promise.race([erasing, late]);
      if (erased === 'late') {
        // Whatever it meets later is logged by eraseKept or here; nobody waits for it.
        erasing.catch((error: Error) =>
          this.log.error(`erasure of call ${callSid}: ${error.message}`),
        );
        throw new ServiceUnavailableException(
          `the history database is not answering: the erasure of ${callSid} waits for it in this process's memory (lost if the process stops first); ${ERASURE_NOT_GUARANTEED}`,
        );
      }
      if (!erased) throw new NotFoundException(`no record or recording of call ${callSid}`);
    } catch (error) {
      if (error instanceof HttpException) throw error;
      this.log.warn(`erasure of call ${callSid} failed: ${(error as Error).message}`);
      throw new ServiceUnavailableException(
        `the history database is not answering; ${ERASURE_NOT_GUARANTEED}`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * What else is kept of the call goes, record or not: its recent record and every instance's
   * memory of it (the console, the events backlog), and what each listener of `history.erased`
   * keeps (the recordings, which answer whether there was one). True if a record or a
   * recording was erased.
   */
  private async eraseKept(callSid: string, hadRecord: boolean): Promise<boolean> {
    await this.live.refuseLiveAgain(callSid);
    let answers: unknown[];
    try {
      await this.directory.eraseCall(callSid);
      answers = await this.events.emitAsync(HistoryEvent.Erased, { callSid });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const what = hadRecord ? 'its record is gone, but erasing' : 'erasing';
      this.log.error(
        `erasure of call ${callSid}: ${what} what else was kept failed (${message}): its recording may be left`,
      );
      throw new InternalServerErrorException(
        `${hadRecord ? `the record of ${callSid} was erased, but erasing` : 'erasing'} its recording failed: ${message}`,
      );
    }
    const hadRecording = answers.includes(true);
    if (hadRecord) this.log.log(`call ${callSid} erased from the history`);
    else if (hadRecording) {
      this.log.log(`call ${callSid} erased (it had no record: its recording was deleted)`);
    }
    return hadRecord || hadRecording;
  }
}
