import type { RealtimeClientEvent } from '../realtime/realtime-outbound.js';
import { MAX_QUEUED_RESPONSES, ResponseScheduler } from './response-scheduler.js';

/** The scheduler's surroundings, recorded: what it sent, warned, counted, and gave up on. */
class Harness {
  open = true;
  readonly sent: RealtimeClientEvent[] = [];
  readonly warnings: string[] = [];
  readonly problems: string[] = [];
  readonly gaveUp: string[] = [];
  readonly scheduler: ResponseScheduler;

  constructor() {
    const sent = this.sent;
    const isOpen = () => this.open;
    this.scheduler = new ResponseScheduler(
      {
        get isOpen() {
          return isOpen();
        },
        send: (event) => {
          sent.push(event);
          return `evt-${sent.length}`;
        },
      },
      { warn: (message) => this.warnings.push(message), debug: () => undefined },
      { responseProblem: (status, reason) => this.problems.push(`${status}:${reason}`) },
      { recoveryMessage: 'Sorry, could you say that again?' },
    );
  }

  /** `response.done`, giving up into `gaveUp`. */
  done(response: Parameters<ResponseScheduler['onDone']>[0]): void {
    this.scheduler.onDone(response, (reason) => this.gaveUp.push(reason));
  }

  creates() {
    return this.sent.filter((event) => event.type === 'response.create');
  }

  /** The server answers our latest response.create, echoing its metadata, as OpenAI does. */
  created(id: string) {
    const last = this.creates().at(-1);
    const metadata = last?.type === 'response.create' ? last.response?.metadata : undefined;
    this.scheduler.onCreated({ id, metadata: metadata ?? undefined });
  }
}

describe('ResponseScheduler', () => {
  it('sends at once when nothing is active', () => {
    const h = new Harness();
    h.scheduler.request({ reason: 'keypad' });
    expect(h.creates()).toHaveLength(1);
    expect(h.scheduler.busy).toBe(true);
  });

  it('defers a request while a response is active and sends it after response.done', () => {
    const h = new Harness();
    h.scheduler.onCreated({ id: 'resp_vad' });
    h.scheduler.request({ reason: 'tool output' });
    expect(h.creates()).toHaveLength(0);
    h.done({ id: 'resp_vad', status: 'completed' });
    expect(h.creates()).toHaveLength(1);
  });

  it('waits for the session to be open', () => {
    const h = new Harness();
    h.open = false;
    h.scheduler.request({ reason: 'goodbye', params: { instructions: 'Say bye' } });
    expect(h.sent).toHaveLength(0);
    h.open = true;
    h.scheduler.flush();
    expect(h.creates()[0]).toMatchObject({ response: { instructions: 'Say bye' } });
  });

  it('ties response.created to its request by metadata, not to a VAD response', () => {
    const h = new Harness();
    const created: string[] = [];
    h.scheduler.request({ reason: 'goodbye', onCreated: (id) => created.push(id) });
    h.scheduler.onCreated({ id: 'resp_vad', metadata: {} });
    expect(created).toEqual([]);
    h.created('resp_ours');
    expect(created).toEqual(['resp_ours']);
  });

  it('puts a create that collided with a VAD response back in front, by its event_id', () => {
    const h = new Harness();
    h.scheduler.request({ reason: 'keypad' });
    h.scheduler.onCreated({ id: 'resp_vad', metadata: {} });
    expect(
      h.scheduler.onError({ code: 'conversation_already_has_active_response', event_id: 'evt-1' }),
    ).toBe(true);
    expect(h.creates()).toHaveLength(1);
    h.done({ id: 'resp_vad', status: 'completed' });
    expect(h.creates()).toHaveLength(2);
    expect(h.scheduler.onError({ code: 'other', event_id: 'evt-99' })).toBe(false);
  });

  it('waits for the response.done of an active response it never saw created, not colliding again', () => {
    const h = new Harness();
    // A SIP sideband reopened while the server was answering: the scheduler starts afresh.
    h.scheduler.reset();
    h.scheduler.request({ reason: 'tool output' });
    expect(
      h.scheduler.onError({ code: 'conversation_already_has_active_response', event_id: 'evt-1' }),
    ).toBe(true);
    h.scheduler.request({ reason: 'keypad' });
    expect(h.creates()).toHaveLength(1);
    h.done({ id: 'resp_unseen', status: 'completed' });
    expect(h.creates()).toHaveLength(2);
  });

  it('takes an untagged (null) response for the server own once the server has echoed a tag', () => {
    const h = new Harness();
    const created: string[] = [];
    h.scheduler.request({ reason: 'greeting' });
    h.created('resp_1');
    h.done({ id: 'resp_1', status: 'completed' });
    h.scheduler.request({ reason: 'tool output', onCreated: (id) => created.push(id) });
    h.scheduler.onCreated({ id: 'resp_vad', metadata: null });
    expect(created).toEqual([]);
    expect(
      h.scheduler.onError({ code: 'conversation_already_has_active_response', event_id: 'evt-2' }),
    ).toBe(true);
    h.done({ id: 'resp_vad', status: 'completed' });
    h.created('resp_ours');
    expect(created).toEqual(['resp_ours']);
  });

  it('takes back a guess: an untagged response taken for ours whose request then collided', () => {
    const h = new Harness();
    const created: string[] = [];
    const claimed: string[] = [];
    h.scheduler.request({ reason: 'tool output', onCreated: (id) => created.push(id) });
    h.scheduler.claimNextCreated((id) => claimed.push(id));
    // No tag seen from this server yet: the oldest of ours is the best guess.
    h.scheduler.onCreated({ id: 'resp_vad', metadata: null });
    expect(created).toEqual(['resp_vad']);
    expect(
      h.scheduler.onError({ code: 'conversation_already_has_active_response', event_id: 'evt-1' }),
    ).toBe(true);
    expect(h.creates()).toHaveLength(1);
    h.done({ id: 'resp_vad', status: 'completed' });
    expect(h.creates()).toHaveLength(2);
    h.created('resp_ours');
    expect(created).toEqual(['resp_vad', 'resp_ours']);
    expect(claimed).toEqual(['resp_vad', 'resp_ours']);
  });

  it('keeps the guess of a server that never echoes tags (a minimal fake)', () => {
    const h = new Harness();
    const created: string[] = [];
    h.scheduler.request({ reason: 'tool output', onCreated: (id) => created.push(id) });
    h.scheduler.onCreated({ id: 'resp_1', metadata: null });
    h.done({ id: 'resp_1', status: 'completed' });
    h.scheduler.request({ reason: 'keypad', onCreated: (id) => created.push(id) });
    h.scheduler.onCreated({ id: 'resp_2' });
    expect(created).toEqual(['resp_1', 'resp_2']);
    expect(h.scheduler.busy).toBe(true);
  });

  it('merges plain requests and bounds the queue', () => {
    const h = new Harness();
    h.scheduler.onCreated({ id: 'resp_1' });
    h.scheduler.request({ reason: 'a' });
    h.scheduler.request({ reason: 'b' });
    for (let i = 0; i < MAX_QUEUED_RESPONSES + 2; i++) {
      h.scheduler.request({ reason: `say ${i}`, params: { instructions: `${i}` } });
    }
    expect(h.warnings.filter((w) => w.includes('dropped a response request'))).toHaveLength(3);
  });

  it('retries a failed response once, with a warning and a metric by reason', () => {
    const h = new Harness();
    h.scheduler.request({ reason: 'goodbye', params: { instructions: 'Say bye' } });
    h.created('resp_1');
    h.done({
      id: 'resp_1',
      status: 'failed',
      status_details: { type: 'failed', error: { code: 'server_error', message: 'boom' } },
    });
    expect(h.problems).toEqual(['failed:server_error']);
    expect(h.warnings.join()).toMatch(/resp_1 failed \(server_error: boom\); retrying once/);
    expect(h.creates()).toHaveLength(2);
    expect(h.creates()[1]).toMatchObject({ response: { instructions: 'Say bye' } });
    expect(h.gaveUp).toEqual([]);
  });

  it('does not ask again for a failed response the caller had interrupted', () => {
    const h = new Harness();
    h.scheduler.request({ reason: 'tool output' });
    h.created('resp_1');
    h.scheduler.discard('resp_1');
    h.done({
      id: 'resp_1',
      status: 'failed',
      status_details: { type: 'failed', error: { code: 'server_error' } },
    });
    expect(h.problems).toEqual(['failed:server_error']);
    expect(h.warnings.join()).toMatch(
      /resp_1 failed \(server_error\) after the caller interrupted it; not retried/,
    );
    expect(h.creates()).toHaveLength(1);
    expect(h.gaveUp).toEqual([]);
  });

  it('hands the call to the fallback when the retry fails too', () => {
    const h = new Harness();
    h.scheduler.onCreated({ id: 'resp_vad' });
    h.done({
      id: 'resp_vad',
      status: 'failed',
      status_details: { error: { type: 'server_error' } },
    });
    h.created('resp_retry');
    h.done({
      id: 'resp_retry',
      status: 'failed',
      status_details: { error: { type: 'server_error' } },
    });
    expect(h.problems).toEqual(['failed:server_error', 'failed:server_error']);
    expect(h.gaveUp).toHaveLength(1);
    expect(h.creates()).toHaveLength(1);
  });

  it('follows an incomplete response with one spoken recovery sentence', () => {
    const h = new Harness();
    h.scheduler.onCreated({ id: 'resp_1' });
    h.done({
      id: 'resp_1',
      status: 'incomplete',
      status_details: { type: 'incomplete', reason: 'content_filter' },
    });
    expect(h.problems).toEqual(['incomplete:content_filter']);
    expect(h.creates()).toHaveLength(1);
    expect(h.creates()[0]).toMatchObject({
      response: { instructions: expect.stringContaining('Sorry, could you say that again?') },
    });
    h.created('resp_recovery');
    h.done({
      id: 'resp_recovery',
      status: 'incomplete',
      status_details: { reason: 'max_output_tokens' },
    });
    // No recovery of the recovery: a warning and the metric only.
    expect(h.creates()).toHaveLength(1);
    expect(h.problems).toEqual(['incomplete:content_filter', 'incomplete:max_output_tokens']);
  });

  it('discards an interrupted response until its response.done, and cancels on request', () => {
    const h = new Harness();
    h.scheduler.onCreated({ id: 'resp_1' });
    h.scheduler.cancelActive();
    expect(h.sent).toEqual([{ type: 'response.cancel', response_id: 'resp_1' }]);
    expect(h.scheduler.isDiscarded('resp_1')).toBe(true);
    h.done({ id: 'resp_1', status: 'cancelled' });
    expect(h.scheduler.isDiscarded('resp_1')).toBe(false);
    expect(h.problems).toEqual([]);
  });

  it('hands the next created response to a claim once', () => {
    const h = new Harness();
    const claimed: string[] = [];
    h.scheduler.claimNextCreated((id) => claimed.push(id));
    h.scheduler.request({ reason: 'tool output' });
    h.created('resp_1');
    h.done({ id: 'resp_1', status: 'completed' });
    h.scheduler.request({ reason: 'again' });
    h.created('resp_2');
    expect(claimed).toEqual(['resp_1']);
  });

  it('re-sends a request whose response never started after the session is replaced', () => {
    const h = new Harness();
    h.scheduler.request({ reason: 'goodbye', params: { instructions: 'bye' } });
    h.open = false;
    h.scheduler.reset();
    expect(h.scheduler.busy).toBe(false);
    h.open = true;
    h.scheduler.flush();
    expect(h.creates()).toHaveLength(2);
  });
});
