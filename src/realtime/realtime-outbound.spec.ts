import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { InputAudioBufferAppendEvent } from 'openai/resources/realtime/realtime';
import { RealtimeEventIds, realtimeOutbound, type SessionSettings } from './realtime-outbound.js';

const settings: SessionSettings = {
  model: 'gpt-realtime',
  instructions: 'Be brief.',
  voice: 'marin',
  inputFormat: 'g711_ulaw',
  turnDetection: { type: 'server_vad', create_response: true, interrupt_response: true },
  transcription: { model: 'gpt-4o-mini-transcribe' },
  tools: [],
};

describe('realtimeOutbound', () => {
  it('builds a GA session.update with mu-law out and the chosen input format', () => {
    const pcmu = realtimeOutbound.sessionUpdate(settings);
    expect(pcmu.session).toMatchObject({
      type: 'realtime',
      output_modalities: ['audio'],
      audio: {
        input: {
          format: { type: 'audio/pcmu' },
          turn_detection: { type: 'server_vad', interrupt_response: true },
          transcription: { model: 'gpt-4o-mini-transcribe' },
        },
        output: { format: { type: 'audio/pcmu' }, voice: 'marin' },
      },
    });
    expect(pcmu.session).not.toHaveProperty('tools');
    const pcm = realtimeOutbound.sessionUpdate({
      ...settings,
      inputFormat: 'pcm16',
      transcription: null,
    });
    expect(pcm.session).toMatchObject({
      audio: { input: { format: { type: 'audio/pcm', rate: 24000 } } },
    });
    expect(JSON.stringify(pcm)).not.toContain('transcription');
  });

  it('sends the turn detection it is given, its tuning included, and null to switch it off', () => {
    const semantic = realtimeOutbound.sessionUpdate({
      ...settings,
      turnDetection: { type: 'semantic_vad', eagerness: 'low' },
      transcription: { model: 'gpt-4o-transcribe', language: 'de' },
    });
    expect(semantic.session.audio?.input).toMatchObject({
      turn_detection: { type: 'semantic_vad', eagerness: 'low' },
      transcription: { model: 'gpt-4o-transcribe', language: 'de' },
    });
    const off = realtimeOutbound.sessionUpdate({ ...settings, turnDetection: null });
    expect(off.session.audio?.input?.turn_detection).toBeNull();
  });

  it('changes a live session with only the fields given, and never its voice', () => {
    const only = realtimeOutbound.sessionChange({ instructions: 'Help with the booking only.' });
    expect(only).toEqual({
      type: 'session.update',
      session: { type: 'realtime', instructions: 'Help with the booking only.' },
    });
    const tool = {
      type: 'function' as const,
      name: 'cancel',
      description: 'Cancel',
      parameters: { type: 'object', properties: {} },
    };
    const more = realtimeOutbound.sessionChange({
      tools: [tool],
      turnDetection: { type: 'semantic_vad', eagerness: 'high' },
    });
    expect(more.session).toEqual({
      type: 'realtime',
      tools: [tool],
      tool_choice: 'auto',
      audio: { input: { turn_detection: { type: 'semantic_vad', eagerness: 'high' } } },
    });
    expect(realtimeOutbound.sessionChange({ tools: [] }).session).toMatchObject({
      tools: [],
      tool_choice: 'none',
    });
  });

  it('offers tools with tool_choice auto only when there are some', () => {
    const tool = {
      type: 'function' as const,
      name: 'lookup',
      description: 'Look up',
      parameters: { type: 'object', properties: {} },
    };
    expect(realtimeOutbound.sessionUpdate({ ...settings, tools: [tool] }).session).toMatchObject({
      tools: [tool],
      tool_choice: 'auto',
    });
  });

  it('writes the append string exactly as the typed event would serialise', () => {
    const json = realtimeOutbound.appendAudioJson('AAEC/w==', 'a-1');
    const parsed = JSON.parse(json) as InputAudioBufferAppendEvent;
    expect(parsed).toEqual({ ...realtimeOutbound.appendAudio('AAEC/w=='), event_id: 'a-1' });
  });

  it('builds items for every role and for function calls and outputs, with optional ids', () => {
    expect(realtimeOutbound.userText('hi', 'dtmf_1')).toEqual({
      type: 'conversation.item.create',
      item: {
        id: 'dtmf_1',
        type: 'message',
        role: 'user',
        content: [{ type: 'input_text', text: 'hi' }],
      },
    });
    expect(realtimeOutbound.assistantText('hello').item).toEqual({
      type: 'message',
      role: 'assistant',
      content: [{ type: 'output_text', text: 'hello' }],
    });
    expect(
      realtimeOutbound.functionCall({ callId: 'c1', name: 'f', arguments: '{}' }, 'i1').item,
    ).toEqual({ id: 'i1', type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' });
    expect(realtimeOutbound.functionCallOutput('c1', '{"ok":true}').item).toEqual({
      type: 'function_call_output',
      call_id: 'c1',
      output: '{"ok":true}',
    });
  });

  it('truncates at an integer, never below zero', () => {
    expect(realtimeOutbound.truncate('item_1', 0, 1499.7)).toEqual({
      type: 'conversation.item.truncate',
      item_id: 'item_1',
      content_index: 0,
      audio_end_ms: 1499,
    });
    expect(realtimeOutbound.truncate('item_1', 0, -3).audio_end_ms).toBe(0);
  });

  it('creates and cancels responses', () => {
    expect(realtimeOutbound.responseCreate()).toEqual({ type: 'response.create' });
    expect(realtimeOutbound.responseCancel('resp_1')).toEqual({
      type: 'response.cancel',
      response_id: 'resp_1',
    });
    expect(realtimeOutbound.sayExactly('Hello there').response?.instructions).toContain(
      '"Hello there"',
    );
  });
});

describe('RealtimeEventIds', () => {
  it('stamps unique ids that say what they were about when an error names them', () => {
    const ids = new RealtimeEventIds();
    const first = JSON.parse(
      ids.stamp(realtimeOutbound.truncate('item_9', 0, 10), 'item_9 at 10 ms'),
    );
    const second = JSON.parse(ids.stamp(realtimeOutbound.responseCreate()));
    expect(first.event_id).not.toBe(second.event_id);
    expect(ids.describe(first.event_id as string)).toBe(
      `conversation.item.truncate ${first.event_id} (item_9 at 10 ms)`,
    );
    expect(ids.describe(second.event_id as string)).toBe(`response.create ${second.event_id}`);
  });

  it('forgets details beyond its bound but still names the event type', () => {
    const ids = new RealtimeEventIds();
    const old = ids.next('conversation.item.truncate', 'old');
    for (let i = 0; i < 100; i++) ids.next('response.cancel', `c${i}`);
    expect(ids.describe(old)).toBe(`conversation.item.truncate ${old}`);
  });
});

/** The Realtime client event types, as they would appear in a hand-written literal. */
const CLIENT_EVENT_LITERAL =
  /type:\s*'(session\.update|input_audio_buffer\.(append|commit|clear)|conversation\.item\.(create|truncate|delete|retrieve)|response\.(create|cancel))'|"type":"(input_audio_buffer|conversation\.item|response|session)\.[a-z_]+"/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('client events are built only by realtimeOutbound', () => {
  it('no other source file writes a Realtime client event literal', () => {
    const offenders = sourceFiles(join(process.cwd(), 'src'))
      .filter((path) => !path.endsWith('realtime-outbound.ts'))
      .filter((path) => CLIENT_EVENT_LITERAL.test(readFileSync(path, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
