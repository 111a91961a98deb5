import { BridgeMetrics, MAX_OPENAI_ERROR_CODES } from './bridge-metrics.service.js';

async function errorSeries(metrics: BridgeMetrics): Promise<Map<string, number>> {
  const text = await metrics.registry.metrics();
  const series = new Map<string, number>();
  for (const match of text.matchAll(/^bridge_openai_errors_total\{code="([^"]*)"\} (\d+)$/gm)) {
    series.set(match[1], Number(match[2]));
  }
  return series;
}

describe('BridgeMetrics: OpenAI error codes', () => {
  it('keeps a label per code OpenAI uses', async () => {
    const metrics = new BridgeMetrics();
    metrics.openaiError('rate_limit_exceeded');
    metrics.openaiError('rate_limit_exceeded');
    metrics.openaiError('session_expired');
    expect(await errorSeries(metrics)).toEqual(
      new Map([
        ['rate_limit_exceeded', 2],
        ['session_expired', 1],
      ]),
    );
  });

  it('bounds the series an upstream can make: made-up or odd codes count as other', async () => {
    const metrics = new BridgeMetrics();
    for (let i = 0; i < 2000; i++) metrics.openaiError(`made_up_${i}`);
    metrics.openaiError('x'.repeat(5000));
    metrics.openaiError('with "quotes" and spaces');
    const series = await errorSeries(metrics);
    expect(series.size).toBe(MAX_OPENAI_ERROR_CODES + 1);
    expect(series.get('other')).toBe(2000 - MAX_OPENAI_ERROR_CODES + 2);
  });
});
