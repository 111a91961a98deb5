import twilio from 'twilio';

export interface StreamTwimlOptions {
  streamUrl: string;
  /** Passed to the stream as `<Parameter>`s; they come back in `start.customParameters`. */
  parameters: Record<string, string | undefined>;
}

/** `<Response><Connect><Stream url=...>` with one `<Parameter>` per defined value. */
export function streamTwiml(options: StreamTwimlOptions): string {
  const response = new twilio.twiml.VoiceResponse();
  const stream = response.connect().stream({ url: options.streamUrl });
  for (const [name, value] of Object.entries(options.parameters)) {
    if (value !== undefined) stream.parameter({ name, value });
  }
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
  response.say(message);
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
