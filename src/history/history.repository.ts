import { sql, type Kysely, type Selectable } from 'kysely';
import type { CallStartColumns, CallsTable, HistoryTables } from './database/history.tables.js';
import { storableJson, storableText, storableTextOrNull } from './database/storable.js';
import type {
  CallStart,
  HistoryCall,
  HistoryCallDetail,
  HistoryFigures,
  HistoryTurn,
  OpenCall,
  RecordingSummary,
} from './history-record.js';
import type { CallToolSummary } from '../events/call-events.js';
import type { HistoryQuery } from './history-query.js';

type Row = Selectable<CallsTable>;

/** A page of the list: the calls and the cursor of the next page (null: the last page). */
export interface HistoryPage {
  calls: HistoryCall[];
  next: string | null;
}

/** The history's queries, the same SQL on PostgreSQL and the embedded PGlite. */
export class HistoryRepository {
  constructor(private readonly db: Kysely<HistoryTables>) {}

  /** Calls under way: their open rows, until each one's record replaces it (or it is found lost). */
  async open(calls: readonly OpenCall[]): Promise<void> {
    await this.db
      .insertInto('open_calls')
      .values(
        calls.map((call) => ({
          call_sid: call.callSid,
          owner: call.owner,
          stream_sid: call.streamSid,
          transport: call.transport,
          direction: call.direction,
          from_number: storableTextOrNull(call.from),
          to_number: storableTextOrNull(call.to),
          profile: storableTextOrNull(call.profile),
          started_at: call.startedAt,
        })),
      )
      // A retry after a write whose answer was lost.
      .onConflict((conflict) => conflict.column('call_sid').doNothing())
      .execute();
  }

  /**
   * Writes a call's record, and with `closesOpenRow` deletes its open row in the same
   * transaction. The record replaces one already there: a retry after a write whose answer was
   * lost, or the `lost` record another instance wrote while this one could not reach the
   * database. A recording already stored for the call is kept.
   */
  async save(record: HistoryCallDetail, closesOpenRow: boolean): Promise<void> {
    if (!closesOpenRow) return insertRecord(this.db, record, 'replace');
    await this.db.transaction().execute(async (trx) => {
      await insertRecord(trx, record, 'replace');
      await trx.deleteFrom('open_calls').where('call_sid', '=', record.callSid).execute();
    });
  }

  /** Sets (or clears) a call's recording; false when no record of the call exists yet. */
  async setRecording(callSid: string, recording: RecordingSummary | null): Promise<boolean> {
    const result = await this.db
      .updateTable('calls')
      .set({ recording: recording ? storableJson(recording) : null })
      .where('call_sid', '=', callSid)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async get(callSid: string): Promise<HistoryCallDetail | undefined> {
    const row = await this.db
      .selectFrom('calls')
      .selectAll()
      .where('call_sid', '=', callSid)
      .executeTakeFirst();
    return row
      ? {
          ...callOf(row),
          transcript: row.transcript as HistoryTurn[],
          tools: row.tools as CallToolSummary[],
        }
      : undefined;
  }

  /**
   * Erases a call's record, and its open row when it had one or `ended` (its record was waiting
   * and is dropped): left behind, the row would come back as a lost call's record, turns and all.
   * False when there was no record.
   */
  async erase(callSid: string, ended: boolean): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .deleteFrom('calls')
        .where('call_sid', '=', callSid)
        .executeTakeFirst();
      const found = Number(result.numDeletedRows) > 0;
      if (found || ended)
        await trx.deleteFrom('open_calls').where('call_sid', '=', callSid).execute();
      return found;
    });
  }

  /** Retention: erases the records of calls that ended before `cutoff`; says how many. */
  async deleteEndedBefore(cutoff: Date): Promise<number> {
    const result = await this.db
      .deleteFrom('calls')
      .where('ended_at', '<', cutoff)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Newest first (by end, then insertion), `query.limit` at a time. */
  async list(query: HistoryQuery): Promise<HistoryPage> {
    let select = this.db.selectFrom('calls').selectAll();
    if (query.from) select = select.where('ended_at', '>=', new Date(query.from));
    if (query.to) select = select.where('ended_at', '<=', new Date(query.to));
    if (query.outcome) select = select.where('outcome', '=', query.outcome);
    if (query.number) {
      const number = query.number;
      select = select.where((eb) =>
        eb.or([eb('from_number', '=', number), eb('to_number', '=', number)]),
      );
    }
    if (query.q) select = select.where('transcript_text', 'ilike', likePattern(query.q));
    if (query.cursor) {
      const { endedAt, id } = query.cursor;
      select = select.where(sql<boolean>`(ended_at, id) < (${new Date(endedAt)}, ${id})`);
    }
    const rows = await select
      .orderBy('ended_at', 'desc')
      .orderBy('id', 'desc')
      .limit(query.limit + 1)
      .execute();
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      calls: page.map(callOf),
      next: rows.length > query.limit && last ? encodeCursor(last) : null,
    };
  }
}

/**
 * Inserts a call's record. `replace`: a record already there takes the new one's values (its
 * recording kept unless the new one has one); `keep`: the one already there stays.
 */
export async function insertRecord(
  db: Kysely<HistoryTables>,
  record: HistoryCallDetail,
  onConflict: 'replace' | 'keep',
): Promise<void> {
  const { transcript, tools, recording } = record;
  const figures: HistoryFigures = {
    reconnects: record.reconnects,
    turns: record.turns,
    turnsOmitted: record.turnsOmitted,
    usage: record.usage,
    latency: record.latency,
    frames: record.frames,
    model: record.model,
  };
  await db
    .insertInto('calls')
    .values({
      call_sid: record.callSid,
      transport: record.transport,
      direction: record.direction,
      from_number: storableTextOrNull(record.from),
      to_number: storableTextOrNull(record.to),
      profile: storableTextOrNull(record.profile),
      started_at: record.startedAt,
      ended_at: record.endedAt,
      outcome: record.outcome,
      reason: storableText(record.reason),
      duration_s: record.durationS,
      interruptions: record.interruptions,
      cost_usd: record.costUsd,
      recording: recording ? storableJson(recording) : null,
      figures: storableJson(figures),
      transcript: storableJson(transcript),
      tools: storableJson(tools),
      transcript_text: storableText(transcript.map((turn) => turn.text).join('\n')),
    })
    .onConflict((conflict) =>
      onConflict === 'keep'
        ? conflict.column('call_sid').doNothing()
        : conflict.column('call_sid').doUpdateSet((eb) => ({
            ...Object.fromEntries(
              REPLACED_COLUMNS.map((column) => [column, eb.ref(`excluded.${column}`)]),
            ),
            recording: sql`coalesce(${eb.ref('excluded.recording')}, ${eb.ref('calls.recording')})`,
          })),
    )
    .execute();
}

/** What a replacing record overwrites: all but the row's id, its sid and its recording. */
const REPLACED_COLUMNS = [
  'transport',
  'direction',
  'from_number',
  'to_number',
  'profile',
  'started_at',
  'ended_at',
  'outcome',
  'reason',
  'duration_s',
  'interruptions',
  'cost_usd',
  'figures',
  'transcript',
  'tools',
  'transcript_text',
] as const satisfies readonly (keyof CallsTable)[];

/** `q` as an ILIKE pattern that matches it anywhere, its own `%`, `_` and `\` taken literally. */
function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function encodeCursor(row: Row): string {
  return Buffer.from(JSON.stringify([toIso(row.ended_at), row.id])).toString('base64url');
}

export function toIso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** What a row says of how a call began: the same columns in `calls` and `open_calls`. */
export function callStartOf(row: Selectable<CallStartColumns>): CallStart {
  return {
    callSid: row.call_sid,
    transport: row.transport,
    direction: row.direction,
    from: row.from_number,
    to: row.to_number,
    profile: row.profile,
    startedAt: toIso(row.started_at),
  };
}

/** Figures as stored: records written by older versions have no `turnsOmitted`. */
type StoredFigures = Omit<HistoryFigures, 'turnsOmitted'> & { turnsOmitted?: number };

function callOf(row: Row): HistoryCall {
  const figures = row.figures as unknown as StoredFigures;
  return {
    ...callStartOf(row),
    endedAt: toIso(row.ended_at),
    reason: row.reason,
    outcome: row.outcome,
    durationS: row.duration_s,
    interruptions: row.interruptions,
    reconnects: figures.reconnects,
    turns: figures.turns,
    turnsOmitted: figures.turnsOmitted ?? 0,
    usage: figures.usage,
    latency: figures.latency,
    frames: figures.frames,
    model: figures.model,
    costUsd: row.cost_usd,
    recording: (row.recording as RecordingSummary | null) ?? null,
  };
}
