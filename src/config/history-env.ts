import { z } from 'zod';
import { jsonText, optionalText, urlWithHost } from './env.parsers.js';

/**
 * DATABASE_URL: `postgres://` or `postgresql://`. Its value is never echoed in an error: it
 * carries the database password.
 */
export const databaseUrl = optionalText.transform((value, ctx): string | undefined => {
  if (value === undefined) return undefined;
  if (!urlWithHost(value, ['postgres:', 'postgresql:'])) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected a postgres:// URL such as postgres://bridge:secret@db:5432/bridge',
    });
    return z.NEVER;
  }
  return value;
});

/** USD per million tokens of one Realtime model, as OpenAI's price list gives them. */
const modelPrice = z.strictObject({
  audioInput: z.number().nonnegative(),
  audioOutput: z.number().nonnegative(),
  textInput: z.number().nonnegative(),
  textOutput: z.number().nonnegative(),
  /** Cached input tokens (either kind); input's own price when unset. */
  cachedInput: z.number().nonnegative().optional(),
});
export type ModelPrice = z.output<typeof modelPrice>;
export type PriceTable = Readonly<Record<string, ModelPrice>>;

/** The longest model name a price table may name. */
const MAX_MODEL_NAME_CHARS = 100;
/** Models one PRICE_TABLE may price. */
export const MAX_PRICED_MODELS = 50;

/**
 * OpenAI's list prices (USD per 1M tokens) for the GA Realtime models when this was written;
 * PRICE_TABLE overrides a model or adds one (docs/history.md). A model in neither: cost null.
 */
export const DEFAULT_PRICES: PriceTable = {
  'gpt-realtime': {
    audioInput: 32,
    audioOutput: 64,
    textInput: 4,
    textOutput: 16,
    cachedInput: 0.4,
  },
  'gpt-realtime-mini': {
    audioInput: 10,
    audioOutput: 20,
    textInput: 0.6,
    textOutput: 2.4,
    cachedInput: 0.3,
  },
};

const priceTableSchema = z
  .record(z.string().min(1).max(MAX_MODEL_NAME_CHARS), modelPrice)
  .refine((table) => Object.keys(table).length <= MAX_PRICED_MODELS, {
    message: `at most ${MAX_PRICED_MODELS} models`,
  });

/** PRICE_TABLE: JSON `{"model": {audioInput, audioOutput, textInput, textOutput, cachedInput?}}`. */
export const priceTable = jsonText(priceTableSchema, () => ({})).transform((table): PriceTable => ({
  ...DEFAULT_PRICES,
  ...table,
}));
