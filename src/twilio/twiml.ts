import twilio from 'twilio';
import { withoutControlCharacters } from '../text/plain-text.js';

/** A `<Parameter>` value longer than this is cut: Twilio's own fields are far shorter. */
export const MAX_TWIML_VALUE_LENGTH = 500;

/**
 * Text that is safe in TwiML: control characters (XML 1.0 refuses most of them, and a caller ID
 * has no use for any), unpaired surrogates and U+FFFE/U+FFFF removed, and a bounded length.
 * The twilio builder escapes markup; it does not remove characters XML cannot hold at all.
 */
export function twimlText(value: string, maxLength = MAX_TWIML_VALUE_LENGTH): string {
  return withoutControlCharacters(value.slice(0, maxLength));
}

export interface StreamTwimlOptions {
  streamUrl: string;
  /** Where Twilio reports the stream's status (stream-started, -stopped, -error). */
  statusCallbackUrl?: string;
  /** Passed to the stream as `<Parameter>`s; they come back in `start.customParameters`. */
  parameters: Record<string, string | undefined>;
  /** Said (`<Say>`) before the stream connects: the recording notice (RECORDING_NOTICE). */
  notice?: string;
}

/**
 * `[<Say>notice</Say>]<Connect><Stream url=...>` with one `<Parameter>` per defined value.
 */
export function streamTwiml(options: StreamTwimlOptions): string {
  const response = new twilio.twiml.VoiceResponse();
  if (options.notice) response.say(twimlText(options.notice, 4000));
  const stream = response.connect().stream({
    url: options.streamUrl,
    ...(options.statusCallbackUrl
      ? { statusCallback: options.statusCallbackUrl, statusCallbackMethod: 'POST' as const }
      : {}),
  });
  for (const [name, value] of Object.entries(options.parameters)) {
    if (value !== undefined) stream.parameter({ name: twimlText(name), value: twimlText(value) });
  }
  return response.toString();
}

/**
 * The answer to a webhook for a call that already has (or had) its stream: no `<Stream>`, so a
 * replayed webhook gets no second stream token.
 */
export function noStreamTwiml(): string {
  const response = new twilio.twiml.VoiceResponse();
  response.hangup();
  return response.toString();
}

/** What a caller hears when every line is taken. */
export function busyTwiml(): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say('Sorry, all of our lines are busy right now. Please call again in a few minutes.');
  response.hangup();
  return response.toString();
}

/**
 * What a caller hears when the assistant cannot go on: an apology, then a human at
 * `dialNumber` if one is configured, else a polite hang-up.
 */
export function fallbackTwiml(message: string, dialNumber?: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say(twimlText(message, 4000));
  if (dialNumber) response.dial(dialNumber);
  else response.hangup();
  return response.toString();
}

/** Hands the live call to a person at `number`. */
export function transferTwiml(number: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.dial(number);
  return response.toString();
}
