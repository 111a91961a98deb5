import type { TokenUsage } from '../events/call-events.js';

/** A call's usage before its first `response.done`. */
export function emptyTokenUsage(): TokenUsage {
  return {
    inputTokens: 0,
    outputTokens: 0,
    totalTokens: 0,
    inputAudioTokens: 0,
    inputTextTokens: 0,
    inputCachedTokens: 0,
    outputAudioTokens: 0,
    outputTextTokens: 0,
  };
}

const count = (from: unknown, key: string): number => {
  const value = (from as Record<string, unknown> | null | undefined)?.[key];
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
};

/** Adds a `response.done`'s `usage` to a call's running totals; returns what it added. */
export function addTokenUsage(
  total: TokenUsage,
  usage: Record<string, unknown> | null | undefined,
): { input: number; output: number } {
  const input = usage?.input_token_details;
  const output = usage?.output_token_details;
  total.inputTokens += count(usage, 'input_tokens');
  total.outputTokens += count(usage, 'output_tokens');
  total.totalTokens += count(usage, 'total_tokens');
  total.inputAudioTokens += count(input, 'audio_tokens');
  total.inputTextTokens += count(input, 'text_tokens');
  total.inputCachedTokens += count(input, 'cached_tokens');
  total.outputAudioTokens += count(output, 'audio_tokens');
  total.outputTextTokens += count(output, 'text_tokens');
  return { input: count(usage, 'input_tokens'), output: count(usage, 'output_tokens') };
}
