import type { TokenUsage } from '../events/call-events.js';

/** Adds a `response.done`'s `usage` to a call's running totals; returns what it added. */
export function addTokenUsage(
  total: TokenUsage,
  usage: Record<string, unknown> | null | undefined,
): { input: number; output: number } {
  const count = (key: string) => (typeof usage?.[key] === 'number' ? usage[key] : 0);
  total.inputTokens += count('input_tokens');
  total.outputTokens += count('output_tokens');
  total.totalTokens += count('total_tokens');
  return { input: count('input_tokens'), output: count('output_tokens') };
}
