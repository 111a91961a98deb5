import { MAX_TOOL_ARGUMENTS_BYTES, MAX_TOOL_NAME_CHARS, summariseItem } from './realtime-items.js';
import { functionCallsIn, parseRealtimeEvent, type FunctionCall } from './realtime.events.js';

const huge = JSON.stringify({ note: 'x'.repeat(MAX_TOOL_ARGUMENTS_BYTES) });
const item = (args: string) => ({
  id: 'item_1',
  type: 'function_call',
  call_id: 'call_1',
  name: 'lookup',
  arguments: args,
});

/** The function call each server event that can carry one reports, parsed as the bridge does. */
function callsFrom(args: string): Record<string, FunctionCall | undefined> {
  const parse = (event: object) => {
    const result = parseRealtimeEvent(JSON.stringify(event));
    if (!result.ok) throw new Error(result.reason);
    return result.event;
  };
  const argumentsDone = parse({
    type: 'response.function_call_arguments.done',
    response_id: 'r1',
    call_id: 'call_1',
    name: 'lookup',
    arguments: args,
  });
  const itemDone = parse({
    type: 'response.output_item.done',
    response_id: 'r1',
    item: item(args),
  });
  const responseDone = parse({
    type: 'response.done',
    response: { id: 'r1', output: [item(args)] },
  });
  return {
    argumentsDone:
      argumentsDone.type === 'response.function_call_arguments.done' ? argumentsDone : undefined,
    itemDone: itemDone.type === 'response.output_item.done' ? itemDone : undefined,
    responseDone:
      responseDone.type === 'response.done'
        ? functionCallsIn('r1', responseDone.response.output)[0]
        : undefined,
  };
}

describe('the tool-argument bound', () => {
  it('marks an oversized call the same way whichever event carries it, keeping none of its arguments', () => {
    for (const [where, call] of Object.entries(callsFrom(huge))) {
      expect({ where, ...call }).toMatchObject({
        where,
        call_id: 'call_1',
        arguments: '{}',
        oversizedArgumentsBytes: Buffer.byteLength(huge),
      });
    }
  });

  it('keeps arguments within the bound as they are, whichever event carries them', () => {
    const args = JSON.stringify({ id: 7 });
    for (const call of Object.values(callsFrom(args))) {
      expect(call).toMatchObject({ arguments: args });
      expect(call?.oversizedArgumentsBytes).toBeUndefined();
    }
  });

  it('counts bytes, not characters', () => {
    const multiByte = JSON.stringify({ note: 'é'.repeat(MAX_TOOL_ARGUMENTS_BYTES / 2) });
    expect(multiByte.length).toBeLessThan(MAX_TOOL_ARGUMENTS_BYTES);
    expect(callsFrom(multiByte).itemDone?.oversizedArgumentsBytes).toBe(
      Buffer.byteLength(multiByte),
    );
  });

  it('reports no call from an item the server cut (status incomplete), in either event', () => {
    const cut = { ...item('{"reason":"caller said'), status: 'incomplete' };
    const itemDone = parseRealtimeEvent(
      JSON.stringify({ type: 'response.output_item.done', response_id: 'r1', item: cut }),
    );
    expect(itemDone).toMatchObject({ ok: true, event: { type: 'other' } });
    expect(functionCallsIn('r1', [cut, { ...item('{}'), status: 'completed' }])).toHaveLength(1);
  });

  it('keeps no oversized arguments from a conversation item either, and cuts long names', () => {
    const summary = summariseItem({ ...item(huge), name: 'n'.repeat(1000) });
    expect(summary?.arguments).toBeUndefined();
    expect(summary?.name).toHaveLength(MAX_TOOL_NAME_CHARS);
  });
});
