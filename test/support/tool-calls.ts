import type { FakeRealtimeConnection } from './fake-realtime-server.js';
import {
  functionCallEvents,
  functionCallItem,
  responseCreated,
  responseDone,
} from '../../src/testing/realtime-protocol.js';

const DEFAULT_USAGE = { total_tokens: 30, input_tokens: 20, output_tokens: 10 };

/**
 * The model calls a function: the server events of one response that carries it (built by the
 * testing kit's protocol code, as its fake model sends them); `done()` ends the response,
 * reporting `usage`.
 */
export function modelCallsTool(
  upstream: FakeRealtimeConnection,
  responseId: string,
  callId: string,
  name: string,
  args: object,
  usage: { total_tokens: number; input_tokens: number; output_tokens: number } = DEFAULT_USAGE,
) {
  const item = functionCallItem(`item_${callId}`, callId, name, JSON.stringify(args));
  upstream.send(responseCreated(responseId));
  for (const event of functionCallEvents(responseId, item, null)) upstream.send(event);
  return {
    done: () => upstream.send(responseDone(responseId, 'completed', [item], usage)),
  };
}

/** The function_call_outputs the bridge sent, in order. */
export const outputsOf = (upstream: FakeRealtimeConnection) =>
  upstream
    .eventsOfType('conversation.item.create')
    .filter((e) => (e.item as { type: string }).type === 'function_call_output');
