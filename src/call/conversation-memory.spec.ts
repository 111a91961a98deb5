import type { TranscriptTurn } from './call-context.js';
import {
  ConversationMemory,
  cutAtWord,
  INAUDIBLE,
  MAX_REMEMBERED_ITEMS,
} from './conversation-memory.js';

const user = (id: string) => ({ id, type: 'message', role: 'user' });
const assistant = (id: string) => ({ id, type: 'message', role: 'assistant' });

function memoryWithEvents() {
  const reported: TranscriptTurn[] = [];
  return { memory: new ConversationMemory((turn) => reported.push(turn)), reported };
}

describe('ConversationMemory', () => {
  it('keeps conversation order when the caller transcription completes after the answer', () => {
    const { memory, reported } = memoryWithEvents();
    memory.callerCommitted('item_u1', null);
    memory.placeItem(assistant('item_a1'), 'item_u1');
    memory.assistantAudio('item_a1', 1000);
    memory.assistantText('item_a1', 'We open at nine.');
    memory.assistantHeard('item_a1');
    memory.callerText('item_u1', 'When do you open?');
    expect(memory.turns().map((turn) => [turn.role, turn.text])).toEqual([
      ['caller', 'When do you open?'],
      ['assistant', 'We open at nine.'],
    ]);
    // Events come as each turn becomes final; the order of the record is the conversation's.
    expect(reported.map((turn) => turn.role)).toEqual(['assistant', 'caller']);
  });

  it('dates a caller turn from when the caller began it, and an unheard assistant turn is none', async () => {
    const { memory } = memoryWithEvents();
    memory.callerSpeechStarted('item_u1');
    const began = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 30));
    memory.callerCommitted('item_u1', null);
    memory.callerText('item_u1', 'Cancel my contract.');
    // An answer whose audio was all dropped (its response cut before any of it played).
    memory.placeItem(assistant('item_a1'), 'item_u1');
    memory.assistantAudio('item_a1', 800);
    memory.assistantUnheard('item_a1');
    memory.assistantText('item_a1', 'Your contract is cancelled.');
    const turns = memory.turns();
    expect(turns.map((turn) => turn.role)).toEqual(['caller']);
    expect(Math.abs(turns[0].at.getTime() - began)).toBeLessThan(15);
    expect(memory.reseedEvents()).toHaveLength(1);
  });

  it('places an item after its previous_item_id even when it arrives out of order', () => {
    const { memory } = memoryWithEvents();
    memory.placeItem(user('a'), null);
    memory.placeItem(assistant('c'), 'a');
    memory.placeItem(user('b'), 'a');
    memory.callerText('a', 'one');
    memory.callerText('b', 'two');
    memory.assistantText('c', 'three');
    memory.assistantHeard('c');
    expect(memory.turns().map((turn) => turn.text)).toEqual(['one', 'two', 'three']);
  });

  it('cuts an interrupted assistant turn at what was heard, at a word boundary', () => {
    const { memory, reported } = memoryWithEvents();
    memory.placeItem(assistant('item_a1'), null);
    memory.assistantAudio('item_a1', 2000);
    memory.assistantText('item_a1', 'Our opening hours are nine to five on weekdays.');
    expect(reported).toEqual([]);
    memory.assistantCut('item_a1', 1000);
    const [turn] = memory.turns();
    expect(turn).toMatchObject({ role: 'assistant', interrupted: true });
    expect('Our opening hours are nine to five on weekdays.'.startsWith(turn.text)).toBe(true);
    expect(turn.text).toBe('Our opening hours are');
    expect(reported).toEqual([turn]);
  });

  it('reports a cut turn whose transcript arrives after the cut, once', () => {
    const { memory, reported } = memoryWithEvents();
    memory.assistantAudio('item_a1', 1000);
    memory.assistantCut('item_a1', 500);
    memory.assistantText('item_a1', 'Hello there');
    // The server's conversation.item.truncated confirms the cut.
    memory.assistantCut('item_a1', 500);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ text: 'Hello', interrupted: true });
  });

  it('keeps a failed transcription as an explicit inaudible caller turn', () => {
    const { memory, reported } = memoryWithEvents();
    memory.callerCommitted('item_u1', null);
    memory.callerInaudible('item_u1');
    expect(memory.turns()).toEqual([expect.objectContaining({ text: INAUDIBLE, inaudible: true })]);
    expect(reported).toHaveLength(1);
  });

  it('re-seeds caller, interrupted assistant, keypad and tool turns in order, with their ids', () => {
    const { memory } = memoryWithEvents();
    memory.callerCommitted('item_u1', null);
    memory.placeItem(assistant('item_a1'), 'item_u1');
    memory.assistantAudio('item_a1', 3000);
    memory.assistantText('item_a1', 'Let me read you the full list of our branches now.');
    memory.callerText('item_u1', 'Where are you?');
    memory.assistantCut('item_a1', 1000);
    const keypad = memory.addKeypad('[The caller pressed 4 2 on their phone keypad.]');
    memory.placeItem(
      { id: 'item_f1', type: 'function_call', call_id: 'call_1', name: 'lookup', arguments: '' },
      keypad,
    );
    memory.toolCall({ callId: 'call_1', name: 'lookup', arguments: '{"branch":42}' });
    const outputId = memory.toolOutput('call_1', '{"city":"Lyon"}');
    memory.callerCommitted('item_u2', 'item_f1');
    // Still being transcribed when the session was lost: left out.
    const events = memory.reseedEvents();
    expect(events).toEqual([
      {
        type: 'conversation.item.create',
        item: {
          id: 'item_u1',
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: 'Where are you?' }],
        },
      },
      {
        type: 'conversation.item.create',
        item: {
          id: 'item_a1',
          type: 'message',
          role: 'assistant',
          status: 'incomplete',
          content: [{ type: 'output_text', text: 'Let me read you' }],
        },
      },
      {
        type: 'conversation.item.create',
        item: {
          id: keypad,
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: '[The caller pressed 4 2 on their phone keypad.]' },
          ],
        },
      },
      {
        type: 'conversation.item.create',
        item: {
          id: 'item_f1',
          type: 'function_call',
          call_id: 'call_1',
          name: 'lookup',
          arguments: '{"branch":42}',
        },
      },
      {
        type: 'conversation.item.create',
        item: {
          id: outputId,
          type: 'function_call_output',
          call_id: 'call_1',
          output: '{"city":"Lyon"}',
        },
      },
    ]);
    expect(memory.turns().map((turn) => turn.role)).toEqual([
      'caller',
      'assistant',
      'caller',
      'tool',
    ]);
  });

  it('re-seeds a tool call still running as its function_call alone, and reports no turn for it', () => {
    const { memory, reported } = memoryWithEvents();
    memory.toolCall({ callId: 'call_1', name: 'charge_card', arguments: '{}' }, 'item_f1');
    // The new session must know the call: the output sent when the tool settles answers it.
    expect(memory.reseedEvents()).toEqual([
      {
        type: 'conversation.item.create',
        item: {
          id: 'item_f1',
          type: 'function_call',
          call_id: 'call_1',
          name: 'charge_card',
          arguments: '{}',
        },
      },
    ]);
    expect(reported).toEqual([]);
    // One whose arguments were still streaming when the session went never ran: not re-seeded.
    memory.placeItem(
      {
        id: 'item_f2',
        type: 'function_call',
        call_id: 'call_2',
        name: 'charge_card',
        arguments: '',
      },
      'item_f1',
    );
    expect(memory.reseedEvents()).toHaveLength(1);
  });

  it('re-seeds a system message the bridge added (a handback) in its place, and reports no turn for it', () => {
    const { memory, reported } = memoryWithEvents();
    memory.callerCommitted('item_u1', null);
    memory.callerText('item_u1', 'Hello?');
    const note = memory.addSystem('A human operator spoke with the caller.');
    // The server echoes the item it was sent: nothing new is remembered.
    memory.placeItem({ id: note, type: 'message', role: 'system' }, 'item_u1');
    expect(memory.reseedEvents()).toEqual([
      expect.objectContaining({ item: expect.objectContaining({ id: 'item_u1' }) }),
      {
        type: 'conversation.item.create',
        item: {
          id: note,
          type: 'message',
          role: 'system',
          content: [{ type: 'input_text', text: 'A human operator spoke with the caller.' }],
        },
      },
    ]);
    expect(reported.map((turn) => turn.role)).toEqual(['caller']);
    expect(memory.turns()).toHaveLength(1);
  });

  it('takes an item text the server reports on conversation.item.done', () => {
    const { memory } = memoryWithEvents();
    memory.placeItem({ ...user('item_u1'), text: 'typed hello' }, null);
    expect(memory.turns()).toEqual([
      expect.objectContaining({ role: 'caller', text: 'typed hello' }),
    ]);
  });

  it('reports assistant turns still playing when the call ends', () => {
    const { memory, reported } = memoryWithEvents();
    memory.assistantAudio('item_a1', 500);
    memory.assistantText('item_a1', 'Goodbye!');
    memory.flush();
    memory.flush();
    expect(reported).toEqual([expect.objectContaining({ text: 'Goodbye!' })]);
  });

  it('forgets the oldest items beyond its bound', () => {
    const { memory } = memoryWithEvents();
    for (let i = 0; i < MAX_REMEMBERED_ITEMS + 10; i++) memory.addKeypad(`k${i}`);
    const turns = memory.turns();
    expect(turns).toHaveLength(MAX_REMEMBERED_ITEMS);
    expect(turns[0].text).toBe('k10');
    expect(memory.forgottenTurns).toBe(10);
  });

  it('counts as forgotten only the items that were turns', () => {
    const { memory } = memoryWithEvents();
    memory.addSystem('not a turn');
    memory.callerCommitted('item_u_pending', null);
    for (let i = 0; i < MAX_REMEMBERED_ITEMS; i++) memory.addKeypad(`k${i}`);
    expect(memory.turns()).toHaveLength(MAX_REMEMBERED_ITEMS);
    expect(memory.forgottenTurns).toBe(0);
    memory.addKeypad('one more');
    expect(memory.forgottenTurns).toBe(1);
    expect(memory.turns()[0].text).toBe('k1');
  });
});

describe('cutAtWord', () => {
  it.each([
    ['one two three', 0.5, 'one two'],
    ['one two three', 0.3, 'one'],
    ['one two three', 0.1, ''],
    ['one two three', 1, 'one two three'],
    ['one two three', 0, ''],
  ])('cuts %j at %d to %j', (text, fraction, expected) => {
    expect(cutAtWord(text, fraction)).toBe(expected);
  });
});

describe('ConversationMemory where the server plays the audio (SIP)', () => {
  function sipMemory() {
    const reported: TranscriptTurn[] = [];
    const memory = new ConversationMemory((turn) => reported.push(turn), false);
    return { memory, reported };
  }

  it('holds an assistant turn until the server says it was heard', () => {
    const { memory, reported } = sipMemory();
    memory.placeItem(assistant('item_a1'), null);
    memory.assistantText('item_a1', 'We open at nine.');
    expect(reported).toEqual([]);
    memory.assistantHeard('item_a1');
    expect(reported.map((turn) => turn.text)).toEqual(['We open at nine.']);
  });

  it('cuts a turn the server truncated, its length estimated from the transcript', () => {
    const { memory, reported } = sipMemory();
    // 60 characters: about 4 s of speech; the caller heard 2 s of it.
    const text = 'We open at nine on weekdays and at ten on Saturday mornings.';
    memory.assistantText('item_a1', text);
    memory.assistantCut('item_a1', 2000);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ interrupted: true, text: 'We open at nine on weekdays' });
    // The transcript of a cut turn is not re-reported when the audio later "stops".
    memory.assistantHeard('item_a1');
    expect(reported).toHaveLength(1);
  });
});
