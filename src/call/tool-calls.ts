import { Inject, Injectable, Optional, Scope } from '@nestjs/common';
import { callControlConfig, type CallControlConfig } from '../config/config.namespaces.js';
import { MAX_TOOL_ARGUMENTS_BYTES, type FunctionCall } from '../realtime/realtime.events.js';
import { MAX_TOOL_OUTPUT_BYTES } from '../realtime/realtime-items.js';
import { InvalidToolArgumentsError, ToolRegistry } from '../tools/tool-registry.service.js';
import { CallContext } from './call-context.js';
import { CALL_SETTINGS } from './call-providers.js';
import type { CallSettings } from './call-settings.service.js';

export interface ToolCallResult {
  call: FunctionCall;
  arguments: unknown;
  output: string;
  ok: boolean;
  durationMs: number;
  /** What the handler itself threw (a bug, or a failure it reports), for the log's stack. */
  thrown?: Error;
}

/** A settled tool call as the `call.tool` event and its log line tell it (both transports). */
export function toolCallReport(result: ToolCallResult) {
  const took = `tool ${result.call.name} ${result.ok ? 'answered' : 'failed'} in ${result.durationMs} ms`;
  return {
    // A failure says why (the logger cuts a long output).
    line: result.ok ? took : `${took}: ${result.output}`,
    fields: {
      name: result.call.name,
      callId: result.call.call_id,
      arguments: result.arguments,
      output: result.output,
      ok: result.ok,
      durationMs: result.durationMs,
    },
  };
}

/** Where a call's settled tool calls go (ToolOutputs). */
export const TOOL_CALL_SINK = Symbol('TOOL_CALL_SINK');

export interface ToolCallSink {
  /** Send `conversation.item.create` with this function_call_output. */
  sendOutput(result: ToolCallResult): void;
  /** Every call of a finished response is answered: ask the model to go on. */
  continueResponse(): void;
}

/**
 * The function-call round trip of one call. The same call shows up in several server events
 * (`response.function_call_arguments.done`, `response.output_item.done`, `response.done`); each
 * `call_id` is run and answered exactly once, as soon as its handler settles. One
 * `response.create` follows once the response that carried the calls is done and every output
 * of it is sent: asking earlier gets `conversation_already_has_active_response`. A per-call
 * provider; its outputs go to its ToolCallSink (ToolOutputs).
 */
@Injectable({ scope: Scope.REQUEST })
export class ToolCallCoordinator {
  private readonly seen = new Set<string>();
  private readonly pending = new Map<string, number>();
  private readonly finishedResponses = new Set<string>();
  /**
   * The running handlers' signals, each with its TOOL_TIMEOUT_MS timer: aborted at their
   * deadline, or all at once when the call ends (their timers cleared, so nothing of the call
   * waits out a handler that ignores its signal).
   */
  private readonly running = new Map<AbortController, NodeJS.Timeout>();
  private readonly responsesWithCalls = new Set<string>();
  /** Running calls of a tool that announces the call's ending (end_call, transfer_call). */
  private readonly announcing = new Set<string>();
  /** Responses whose outputs are sent without asking the model to go on (dropContinuations). */
  private readonly quiet = new Set<string>();
  private disposed = false;
  private readonly timeoutMs: number;
  /** The tools this call is offered now (`undefined`: every tool); `offer` changes it. */
  private offered?: readonly string[];

  constructor(
    private readonly registry: ToolRegistry,
    private readonly context: CallContext,
    @Inject(callControlConfig.KEY) config: Pick<CallControlConfig, 'toolTimeoutMs'>,
    /** Where outputs go (ToolOutputs: to the record and the model). */
    @Inject(TOOL_CALL_SINK) private readonly sink: ToolCallSink,
    /** The tools this call was offered (`tools` undefined, or no settings: every tool). */
    @Optional() @Inject(CALL_SETTINGS) private readonly settings?: Pick<CallSettings, 'tools'>,
  ) {
    this.timeoutMs = config.toolTimeoutMs;
    this.offered = settings?.tools;
  }

  /**
   * From now on the model is offered these tools only: a later call of any other gets an error
   * output. Throws, changing nothing, on a name no registered tool has.
   */
  offer(names: readonly string[]): void {
    const unknown = names.filter((name) => !this.registry.get(name));
    if (unknown.length > 0) {
      const known = this.registry.names();
      throw new Error(
        `no registered tool is named ${unknown.map((name) => `"${name}"`).join(', ')}` +
          ` (registered: ${known.join(', ') || 'none'})`,
      );
    }
    this.offered = names;
  }

  /** True while some handler has not settled. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  /**
   * True while an end_call or transfer_call is running: its output tells the model to say the
   * last sentence, so the response asked for after it is that sentence.
   */
  get announcesEnding(): boolean {
    return this.announcing.size > 0;
  }

  /**
   * The call's last sentence has been asked for: the calls not answered yet still get their
   * outputs (the model and the record keep them), but the model is not asked to go on after
   * them, which the caller would hear after the goodbye. Later responses continue as usual.
   */
  dropContinuations(activeResponseId?: string): void {
    // The active response may carry a call not seen yet.
    if (activeResponseId !== undefined) this.quiet.add(activeResponseId);
    for (const responseId of this.responsesWithCalls) this.quiet.add(responseId);
  }

  onFunctionCall(call: FunctionCall): void {
    if (this.disposed || this.seen.has(call.call_id)) return;
    this.seen.add(call.call_id);
    this.responsesWithCalls.add(call.response_id);
    this.pending.set(call.response_id, (this.pending.get(call.response_id) ?? 0) + 1);
    if (this.registry.get(call.name)?.announcesEnding) this.announcing.add(call.call_id);
    void this.run(call).then((result) => {
      this.announcing.delete(call.call_id);
      if (this.disposed) return;
      this.sink.sendOutput(result);
      const left = (this.pending.get(call.response_id) ?? 1) - 1;
      if (left > 0) this.pending.set(call.response_id, left);
      else this.pending.delete(call.response_id);
      this.continueIfComplete(call.response_id);
    });
  }

  /** `response.done`: its calls (if any not seen yet) are run, and the model continues once all are answered. */
  onResponseDone(responseId: string, calls: FunctionCall[]): void {
    for (const call of calls) this.onFunctionCall(call);
    if (!this.responsesWithCalls.has(responseId)) return;
    this.finishedResponses.add(responseId);
    this.continueIfComplete(responseId);
  }

  /**
   * A new Realtime session replaced the lost one (or a SIP sideband reopened): the `response.done`
   * of a response cut short never comes. Its calls count as finished: once their outputs are sent
   * (the re-seed carries the calls), the model is asked to go on. True when some response had
   * calls unanswered: its continuation asks (or has asked) the new session for the answer.
   */
  onSessionReplaced(): boolean {
    const unanswered = [...this.responsesWithCalls];
    for (const responseId of unanswered) {
      this.finishedResponses.add(responseId);
      this.continueIfComplete(responseId);
    }
    return unanswered.length > 0;
  }

  dispose(): void {
    this.disposed = true;
    for (const [running, timer] of this.running) {
      clearTimeout(timer);
      running.abort(new Error('the call ended'));
    }
    this.running.clear();
  }

  private continueIfComplete(responseId: string): void {
    if (!this.finishedResponses.has(responseId) || this.pending.has(responseId)) return;
    this.finishedResponses.delete(responseId);
    this.responsesWithCalls.delete(responseId);
    if (!this.quiet.delete(responseId)) this.sink.continueResponse();
  }

  /** Runs one handler; never rejects: every failure becomes an error output for the model. */
  private async run(call: FunctionCall): Promise<ToolCallResult> {
    const started = Date.now();
    const result = (args: unknown, output: string | object, ok: boolean): ToolCallResult => ({
      call,
      arguments: args,
      output: typeof output === 'string' ? output : JSON.stringify(output),
      ok,
      durationMs: Date.now() - started,
    });
    if (call.oversizedArgumentsBytes !== undefined) {
      const error = `the arguments were ${call.oversizedArgumentsBytes} bytes, over the limit of ${MAX_TOOL_ARGUMENTS_BYTES}; the tool was not run`;
      return result(undefined, { error }, false);
    }
    // Within the bound from here on: what the model sent is kept for the record, run or not.
    const args = argumentsObject(call.arguments);
    const asSent = args ?? call.arguments;
    const tool = this.registry.get(call.name);
    if (!tool) return result(asSent, { error: `unknown tool "${call.name}"` }, false);
    const offered = this.offered;
    if (offered && !offered.includes(call.name))
      return result(asSent, { error: `tool "${call.name}" is not available on this call` }, false);
    if (!args) return result(asSent, { error: 'the arguments were not a JSON object' }, false);
    const running = new AbortController();
    const timer = setTimeout(
      () => running.abort(new ToolTimeoutError(this.timeoutMs)),
      this.timeoutMs,
    );
    this.running.set(running, timer);
    try {
      // Settles when the signal aborts (the deadline, or the call's end), whatever the handler does.
      const stopped = new Promise<never>((_, reject) => {
        running.signal.addEventListener('abort', () => reject(running.signal.reason as Error), {
          once: true,
        });
      });
      // Validation runs inside the time limit too: zod refinements may be async.
      const output = await Promise.race([tool.invoke(args, this.context, running.signal), stopped]);
      return result(args, serialised(call.name, output), true);
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      const failed = result(args, { error: failure.message || 'the tool failed' }, false);
      const ours =
        failure instanceof ToolTimeoutError || failure instanceof InvalidToolArgumentsError;
      return ours ? failed : { ...failed, thrown: failure };
    } finally {
      clearTimeout(timer);
      this.running.delete(running);
    }
  }
}

/**
 * A handler's result as the `output` string the Realtime API requires. Nothing (undefined, null)
 * is `{"ok":true}`; what JSON cannot represent (a function, a symbol, a toJSON that gives
 * undefined) throws, as a BigInt or a cycle does, so the model gets an error output rather than
 * an item without one; so does an output over MAX_TOOL_OUTPUT_BYTES.
 */
function serialised(name: string, output: unknown): string {
  const json =
    typeof output === 'string'
      ? output
      : (JSON.stringify(output ?? { ok: true }) as string | undefined);
  if (json === undefined) {
    throw new Error(`tool ${name} returned a value JSON cannot represent (${typeof output})`);
  }
  if (json.length * 3 > MAX_TOOL_OUTPUT_BYTES && Buffer.byteLength(json) > MAX_TOOL_OUTPUT_BYTES) {
    throw new Error(
      `tool ${name} returned ${Buffer.byteLength(json)} bytes, over the limit of ${MAX_TOOL_OUTPUT_BYTES}`,
    );
  }
  return json;
}

/** The call's arguments as the object a handler takes, or undefined when they are not one. */
function argumentsObject(json: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(json || '{}');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    return parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

class ToolTimeoutError extends Error {
  constructor(ms: number) {
    super(`the tool did not answer within ${ms} ms`);
  }
}
