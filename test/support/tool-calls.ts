import type { FakeRealtimeConnection } from './fake-realtime-server.js';

const DEFAULT_USAGE = { total_tokens: 30, input_tokens: 20, output_tokens: 10 };

/**
 * The model calls a function: the server events of one response that carries it; `done()` ends
 * the response, reporting `usage`.
 */
export function modelCallsTool(
  upstream: FakeRealtimeConnection,
  responseId: string,
  callId: string,
  name: string,
  args: object,
  usage: { total_tokens: number; input_tokens: number; output_tokens: number } = DEFAULT_USAGE,
) {
  const item = {
    id: `item_${callId}`,
    type: 'function_call',
    status: 'completed',
    call_id: callId,
    name,
    arguments: JSON.stringify(args),
  };
  upstream.send({
    type: 'response.created',
    response: { id: responseId, status: 'in_progress', output: [] },
  });
  upstream.send({
    type: 'response.function_call_arguments.done',
    response_id: responseId,
    item_id: item.id,
    output_index: 0,
    call_id: callId,
    name,
    arguments: item.arguments,
  });
  upstream.send({
    type: 'response.output_item.done',
    response_id: responseId,
    output_index: 0,
    item,
  });
  return {
    done: () =>
      upstream.send({
        type: 'response.done',
        response: {
          id: responseId,
          status: 'completed',
          output: [item],
          usage,
        },
      }),
  };
}

/** The function_call_outputs the bridge sent, in order. */
export const outputsOf = (upstream: FakeRealtimeConnection) =>
  upstream
    .eventsOfType('conversation.item.create')
    .filter((e) => (e.item as { type: string }).type === 'function_call_output');
