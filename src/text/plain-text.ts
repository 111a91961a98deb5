/** Control characters (C0, DEL, C1), unpaired surrogates and the noncharacters U+FFFE/U+FFFF. */
const UNPRINTABLE = /[\p{Cc}\p{Cs}\uFFFE\uFFFF]/gu;

/**
 * Text from a stranger made safe to store, show and log: no terminal escapes, no forged log
 * lines (CR/LF), nothing XML cannot hold. Real text (accents, emoji) is kept as it is.
 */
export function withoutControlCharacters(value: string): string {
  return value.replace(UNPRINTABLE, '');
}
