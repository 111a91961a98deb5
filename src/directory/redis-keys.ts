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
  /** The stream relay (a call's event stream followed on its owner): as the listen relay's. */
  streamOpen: (instance: string) => `${KEY_PREFIX}stream-relay:${instance}`,
  streamDown: (session: string) => `${KEY_PREFIX}stream-relay-session:${session}:down`,
  streamUp: (session: string) => `${KEY_PREFIX}stream-relay-session:${session}:up`,
  /** Console sessions: each under its keyed hash, the index of them all, and their ends. */
  consoleSession: (key: string) => `${KEY_PREFIX}console-session:${key}`,
  consoleSessionPrefix: `${KEY_PREFIX}console-session:`,
  consoleSessions: `${KEY_PREFIX}console-sessions`,
  consoleSessionsEnded: `${KEY_PREFIX}console-sessions:ended`,
  /** Calls erased from the history: every instance forgets what it keeps of them. */
  callsErased: `${KEY_PREFIX}calls-erased`,
};
