import { sql, type Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';

/**
 * The history's schema, one versioned step at a time: Kysely's Migrator records the steps run
 * in `history_migrations` and runs the missing ones at start, in name order. A step, once
 * released, never changes: a later change is a new step. In code rather than files so the
 * built package needs no migrations folder.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001_calls': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('calls')
        .addColumn('id', 'serial', (col) => col.primaryKey())
        .addColumn('call_sid', 'text', (col) => col.notNull().unique())
        .addColumn('transport', 'text', (col) => col.notNull())
        .addColumn('direction', 'text', (col) => col.notNull())
        .addColumn('from_number', 'text')
        .addColumn('to_number', 'text')
        .addColumn('profile', 'text')
        .addColumn('started_at', 'timestamptz', (col) => col.notNull())
        .addColumn('ended_at', 'timestamptz', (col) => col.notNull())
        .addColumn('outcome', 'text', (col) => col.notNull())
        .addColumn('reason', 'text', (col) => col.notNull())
        .addColumn('duration_s', 'double precision', (col) => col.notNull())
        .addColumn('interruptions', 'integer', (col) => col.notNull())
        .addColumn('cost_usd', 'double precision')
        .addColumn('recording', 'jsonb')
        .addColumn('figures', 'jsonb', (col) => col.notNull())
        .addColumn('transcript', 'jsonb', (col) => col.notNull())
        .addColumn('tools', 'jsonb', (col) => col.notNull())
        .addColumn('transcript_text', 'text', (col) => col.notNull().defaultTo(''))
        .execute();
      // Newest first, with the cursor's tie-break; retention deletes by ended_at too.
      await db.schema
        .createIndex('calls_ended_at_id')
        .on('calls')
        .expression(sql`ended_at desc, id desc`)
        .execute();
      await db.schema.createIndex('calls_from_number').on('calls').column('from_number').execute();
      await db.schema.createIndex('calls_to_number').on('calls').column('to_number').execute();
    },
  },
  '0002_open_calls': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('open_calls')
        .addColumn('call_sid', 'text', (col) => col.primaryKey())
        .addColumn('owner', 'text', (col) => col.notNull())
        .addColumn('transport', 'text', (col) => col.notNull())
        .addColumn('direction', 'text', (col) => col.notNull())
        .addColumn('from_number', 'text')
        .addColumn('to_number', 'text')
        .addColumn('profile', 'text')
        .addColumn('started_at', 'timestamptz', (col) => col.notNull())
        .addColumn('seen_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
        .execute();
      // The sweep looks for other owners' rows not seen for a while, the oldest first.
      await db.schema
        .createIndex('open_calls_seen_at')
        .on('open_calls')
        .column('seen_at')
        .execute();
    },
  },
  '0003_open_calls_progress': {
    async up(db: Kysely<unknown>) {
      // What a lost call's record and `call.ended` can still say: its stream, and the turns
      // written while it ran. Null and empty in rows written before this step.
      await db.schema
        .alterTable('open_calls')
        .addColumn('stream_sid', 'text')
        .addColumn('transcript', 'jsonb', (col) => col.notNull().defaultTo(sql`'[]'::jsonb`))
        .execute();
    },
  },
};

export const historyMigrations: MigrationProvider = {
  getMigrations: () => Promise.resolve(MIGRATIONS),
};

/** The table where the Migrator records what it ran (and its lock). */
export const MIGRATION_TABLE = 'history_migrations';
