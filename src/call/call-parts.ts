import type { Provider } from '@nestjs/common';
import { CallEnding } from './call-ending.js';
import { CallOwnerParts } from './call-owner-base.js';
import { callValueProviders } from './call-providers.js';
import { CallRecorder } from './call-recorder.js';
import { Keypad } from './keypad.js';
import { OperatorLine } from '../media-call/operator-line.js';
import { ResponseFlow } from './response-flow.js';
import { ResponseScheduler } from './response-scheduler.js';
import { SessionChanges } from './session-changes.js';
import { TOOL_CALL_SINK, ToolCallCoordinator } from './tool-calls.js';
import { ToolOutputs } from './tool-outputs.js';

/**
 * The per-call parts both transports run on. Each transport's module declares them next to its
 * own bindings of the call-transport tokens (CALL_CHANNEL, CALL_PLAYBACK, CALL_LINE,
 * CALL_BARGE_IN), so the same classes resolve, per call, against that transport's parts.
 */
export const sharedCallParts: Provider[] = [
  ...callValueProviders,
  ResponseScheduler,
  ResponseFlow,
  ToolCallCoordinator,
  ToolOutputs,
  { provide: TOOL_CALL_SINK, useExisting: ToolOutputs },
  CallEnding,
  CallRecorder,
  Keypad,
  SessionChanges,
  OperatorLine,
  CallOwnerParts,
];
