import type { MemoryScope } from './call-directory.js';
import { KEY_PREFIX } from './cluster.constants.js';

/** Every key and channel the bridge uses in Redis. */
export const redisKeys = {
  leases: `${KEY_PREFIX}leases`,
  call: (sid: string) => `${KEY_PREFIX}call:${sid}`,
  callPrefix: `${KEY_PREFIX}call:`,
  /** SIP calls' lines (call id -> expiry), and the signed call of each (sealed for sipLine). */
  sipLines: `${KEY_PREFIX}sip-lines`,
  sipLineRecords: `${KEY_PREFIX}sip-line-records`,
  sipLine: (sid: string) => `${KEY_PREFIX}sip-line:${sid}`,
  memory: (scope: MemoryScope, key: string) => `${KEY_PREFIX}mem:${scope}:${key}`,
  plan: (sid: string) => `${KEY_PREFIX}plan:${sid}`,
  recent: `${KEY_PREFIX}recent`,
  control: (instance: string) => `${KEY_PREFIX}control:${instance}`,
  events: (sid: string) => `${KEY_PREFIX}events:${sid}`,
  eventsPrefix: `${KEY_PREFIX}events:`,
  /** Listen relay: open requests for an instance, then each session's two directions. */
  listenOpen: (instance: string) => `${KEY_PREFIX}listen:${instance}`,
  listenDown: (session: string) => `${KEY_PREFIX}listen-session:${session}:down`,
  listenUp: (session: string) => `${KEY_PREFIX}listen-session:${session}:up`,
  /** The console's call view relay: the same shape as the listen relay's. */
  consoleViewOpen: (instance: string) => `${KEY_PREFIX}console-view:${instance}`,
  consoleViewDown: (session: string) => `${KEY_PREFIX}console-view-session:${session}:down`,
  consoleViewUp: (session: string) => `${KEY_PREFIX}console-view-session:${session}:up`,
  /** Console sessions: each under its keyed hash, the index of them all, and their ends. */
  consoleSession: (key: string) => `${KEY_PREFIX}console-session:${key}`,
  consoleSessionPrefix: `${KEY_PREFIX}console-session:`,
  consoleSessions: `${KEY_PREFIX}console-sessions`,
  consoleSessionsEnded: `${KEY_PREFIX}console-sessions:ended`,
};
