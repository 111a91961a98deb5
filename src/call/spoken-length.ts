/**
 * Where the bridge does not see the assistant's audio (a SIP call: OpenAI plays it to the
 * caller), its length is estimated from its transcript: speech runs at about 15 characters a
 * second. The margin covers the audio still on its way to the caller when a whole response's
 * length decides when to hang up.
 */
const SPOKEN_CHARS_PER_S = 15;
export const SPOKEN_MARGIN_MS = 750;

/** Roughly how long these words take to say, in ms. */
export function spokenMs(text: string): number {
  return Math.round((text.length / SPOKEN_CHARS_PER_S) * 1000);
}

/** The words of a response's output (`response.done`), for a spoken-length estimate. */
export function spokenTextOf(output: readonly unknown[] | undefined): string {
  let text = '';
  for (const item of output ?? []) {
    const content = (item as { content?: unknown }).content;
    if (!Array.isArray(content)) continue;
    for (const part of content as Array<{ transcript?: unknown; text?: unknown }>) {
      const words = typeof part.transcript === 'string' ? part.transcript : part.text;
      if (typeof words === 'string') text += words;
    }
  }
  return text;
}
