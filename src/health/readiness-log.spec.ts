import { ReadinessLog } from './readiness-log.js';

function logged() {
  const lines: string[] = [];
  const log = {
    log: (message: string) => lines.push(`log ${message}`),
    warn: (message: string) => lines.push(`warn ${message}`),
  };
  return { readiness: new ReadinessLog(log), lines };
}

const opening = { history: { status: 'down' as const, message: 'opening the history database' } };

describe('ReadinessLog', () => {
  it('says nothing while ready', () => {
    const { readiness, lines } = logged();
    readiness.ready();
    readiness.ready();
    expect(lines).toEqual([]);
  });

  it('says "not ready" once per set of reasons, then "ready" once', () => {
    const { readiness, lines } = logged();
    for (let probe = 0; probe < 20; probe++) readiness.notReady(opening);
    readiness.notReady({
      ...opening,
      openai: { status: 'down', message: 'API key rejected (HTTP 401)' },
    });
    readiness.ready();
    readiness.ready();
    expect(lines).toEqual([
      'warn not ready: history (opening the history database)',
      'warn not ready: history (opening the history database), openai (API key rejected (HTTP 401))',
      'log ready',
    ]);
  });

  it('says it again when the same reason comes back after being ready', () => {
    const { readiness, lines } = logged();
    readiness.notReady({ admission: { status: 'down', message: 'draining for shutdown' } });
    readiness.ready();
    readiness.notReady({ admission: { status: 'down', message: 'draining for shutdown' } });
    expect(lines).toEqual([
      'warn not ready: admission (draining for shutdown)',
      'log ready',
      'warn not ready: admission (draining for shutdown)',
    ]);
  });

  it('names a failing check that gives no message, and says so when none is named', () => {
    const { readiness, lines } = logged();
    readiness.notReady({ redis: { status: 'down' } });
    readiness.notReady({});
    expect(lines).toEqual(['warn not ready: redis', 'warn not ready: a check failed']);
  });
});
