import type { RealtimeClientEvent } from '../realtime/realtime-outbound.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import type { CallEnding } from './call-ending.js';
import type { CallLogger } from './call-logger.js';
import type { CallSettings } from './call-settings.service.js';
import type { ResponseRequest, ResponseScheduler } from './response-scheduler.js';
import { SessionChanges } from './session-changes.js';
import { OperatorLine } from '../media-call/operator-line.js';
import type { ToolCallCoordinator } from './tool-calls.js';

/** SessionChanges with its surroundings recorded: what went out, what was asked, what was offered. */
function harness({ wrappingUp = false, line = new OperatorLine() } = {}) {
  const sent: RealtimeClientEvent[] = [];
  const requests: ResponseRequest[] = [];
  const offered: string[][] = [];
  const warnings: string[] = [];
  const registry = new ToolRegistry();
  for (const name of ['reserve_table', 'end_call']) {
    registry.register({ name, description: `does ${name}` }, () => ({ ok: true }));
  }
  const settings = { instructions: 'Be brief.', voice: 'marin' } as CallSettings;
  const changes = new SessionChanges(
    { isOpen: true, send: (event) => String(sent.push(event)), close: () => undefined },
    registry,
    { offer: (names: string[]) => offered.push(names) } as unknown as ToolCallCoordinator,
    {
      request: (request: ResponseRequest) => requests.push(request),
    } as unknown as ResponseScheduler,
    { isWrappingUp: wrappingUp } as CallEnding,
    { log: () => undefined, warn: (m: string) => warnings.push(m) } as unknown as CallLogger,
    line,
    settings,
  );
  return { changes, sent, requests, offered, warnings, settings };
}

describe('SessionChanges (updateSession and say, on either transport)', () => {
  it('sends one session.update with the fields given and keeps them for a later session', () => {
    const h = harness();
    h.changes.update({ instructions: 'Offer to cancel.', tools: ['end_call'] });

    expect(h.sent).toEqual([
      {
        type: 'session.update',
        session: {
          type: 'realtime',
          instructions: 'Offer to cancel.',
          tools: [expect.objectContaining({ name: 'end_call' })],
          tool_choice: 'auto',
        },
      },
    ]);
    expect(h.offered).toEqual([['end_call']]);
    expect(h.settings).toMatchObject({ instructions: 'Offer to cancel.', tools: ['end_call'] });
  });

  it('keeps the model from answering by itself while an operator holds the line', () => {
    const line = new OperatorLine();
    line.hold({ operator: 'api', since: new Date() });
    const h = harness({ line });
    const vad = { type: 'server_vad' as const, create_response: true, interrupt_response: true };
    h.changes.update({ turnDetection: vad });

    expect(h.sent[0]).toMatchObject({
      session: {
        audio: { input: { turn_detection: { create_response: false, interrupt_response: false } } },
      },
    });
    // The call's own choice is kept, for when the line is handed back.
    expect(h.settings.turnDetection).toEqual(vad);
  });

  it('says a sentence as a response of its own through the scheduler', () => {
    const h = harness();
    h.changes.say('Your table is booked.');
    expect(h.requests).toEqual([
      {
        reason: 'say',
        params: { instructions: 'Say exactly this, and nothing else: "Your table is booked."' },
      },
    ]);
  });

  it('says nothing once the goodbye was asked for', () => {
    const h = harness({ wrappingUp: true });
    h.changes.say('One more thing!');
    expect(h.requests).toEqual([]);
    expect(h.warnings).toEqual(['say() while the call is ending: not said']);
  });
});
