import type { Type } from '@nestjs/common';
import type { ContextId } from '@nestjs/core';
import {
  CallContext,
  MAX_SAY_CHARS,
  type CallSessionUpdate,
  type CallTransport,
  type TranscriptTurn,
} from './call-context.js';
import { instructionsProblem, toolNamesProblem } from '../realtime/session-bounds.js';
import type { CallScope } from './call-scope.js';
import type { CallStart } from './call-start.js';

/** What the session behind a CallContext lets tools and hooks do to the call. */
export interface CallControl {
  end(reason: string): void;
  transfer(number: string): void;
  /** Already checked by checkedSessionUpdate, except the tool names (the control knows those). */
  updateSession(update: CallSessionUpdate): void;
  /** A non-empty text of at most MAX_SAY_CHARS. */
  say(text: string): void;
}

type Resolver = <T>(type: Type<T>, contextId: ContextId) => Promise<T>;

/**
 * The bridge's CallContext: one per call, a per-call provider made from the call's CallStart
 * (CallContextModule). What it lets code do to the call reaches the call's owner through the
 * call's CallScope. Kept out of the public API so that the scope and the context id stay the
 * bridge's business.
 */
export class LiveCallContext extends CallContext {
  readonly startedAt = new Date();
  readonly callSid: string;
  readonly streamSid: string;
  readonly accountSid: string;
  readonly customParameters: Readonly<Record<string, string>>;
  readonly transport: CallTransport;
  /** The DI context of this call's provider sub-tree (for `moduleRef.resolve(X, contextId)`). */
  readonly contextId: ContextId;

  constructor(
    start: CallStart,
    private readonly scope: Pick<CallScope, 'owner'>,
    private readonly resolver: Resolver,
  ) {
    super();
    this.contextId = start.contextId;
    this.callSid = start.callSid;
    this.streamSid = start.streamSid;
    this.accountSid = start.accountSid;
    this.customParameters = start.customParameters;
    this.transport = start.transport;
  }

  resolve<T>(type: Type<T>): Promise<T> {
    return this.resolver(type, this.contextId);
  }

  get from(): string | undefined {
    return this.customParameters.From;
  }

  get to(): string | undefined {
    return this.customParameters.To;
  }

  get profile(): string | undefined {
    return this.customParameters.profile;
  }

  get transcript(): readonly TranscriptTurn[] {
    return this.scope.owner?.transcript ?? [];
  }

  end(reason = 'ended by the application'): void {
    this.requireControl().end(reason);
  }

  transfer(number: string): void {
    this.requireControl().transfer(number);
  }

  updateSession(update: CallSessionUpdate): void {
    const checked = checkedSessionUpdate(update);
    if (Object.keys(checked).length > 0) this.requireControl().updateSession(checked);
  }

  say(text: string): void {
    if (typeof text !== 'string' || text.trim() === '') {
      throw new Error('say(text) needs a non-empty text');
    }
    if (text.length > MAX_SAY_CHARS) {
      throw new Error(`say(text) takes at most ${MAX_SAY_CHARS} characters; got ${text.length}`);
    }
    this.requireControl().say(text);
  }

  private requireControl(): CallControl {
    const owner = this.scope.owner;
    if (!owner) throw new Error(`call ${this.callSid} has no session yet`);
    return owner;
  }
}

const UPDATABLE = new Set(['instructions', 'tools', 'turnDetection']);
const TURN_DETECTION_TYPES = new Set(['server_vad', 'semantic_vad']);

/**
 * The update with only the fields given, after checking their shapes (a tool is written in
 * JavaScript too, or passes on what a model produced): a wrong one throws before anything is
 * sent, with a message that names it.
 */
function checkedSessionUpdate(update: CallSessionUpdate): CallSessionUpdate {
  if (typeof update !== 'object' || update === null) {
    throw new Error('updateSession(update) needs an object');
  }
  for (const [key, value] of Object.entries(update)) {
    if (key === 'voice') {
      throw new Error(
        'updateSession cannot change the voice: the Realtime API refuses a new voice once the ' +
          'model has spoken; choose it in the CALL_SETTINGS_RESOLVER',
      );
    }
    if (!UPDATABLE.has(key) && value !== undefined) {
      throw new Error(
        `updateSession cannot change "${key}"; it changes instructions, tools and turnDetection`,
      );
    }
  }
  const { instructions, tools, turnDetection } = update;
  const checked: CallSessionUpdate = {};
  if (instructions !== undefined) {
    if (typeof instructions !== 'string')
      throw new Error('updateSession: instructions must be a string');
    const tooLong = instructionsProblem(instructions);
    if (tooLong) throw new Error(`updateSession: ${tooLong}`);
    checked.instructions = instructions;
  }
  if (tools !== undefined) {
    if (!Array.isArray(tools) || tools.some((name) => typeof name !== 'string')) {
      throw new Error('updateSession: tools must be an array of tool names');
    }
    const tooMany = toolNamesProblem(tools);
    if (tooMany) throw new Error(`updateSession: ${tooMany}`);
    checked.tools = [...new Set(tools)];
  }
  if (turnDetection !== undefined) {
    if (turnDetection !== null && !TURN_DETECTION_TYPES.has(turnDetection?.type)) {
      throw new Error(
        'updateSession: turnDetection must be null or have type "server_vad" or "semantic_vad"',
      );
    }
    checked.turnDetection = turnDetection;
  }
  return checked;
}

/**
 * The DI context a CallContext belongs to, for resolving per-call providers by their exact
 * wrapper (the tool explorer). Only contexts the bridge made have one.
 */
export function contextIdOf(call: CallContext): ContextId {
  if (!(call instanceof LiveCallContext)) {
    throw new Error('this CallContext was not created by the bridge for a call');
  }
  return call.contextId;
}
