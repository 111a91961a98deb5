import twilio from 'twilio';

/**
 * The voice webhook as Twilio calls it, and the little of TwiML that Twilio would act on for a
 * call the bridge answers: `<Connect><Stream>` with its `<Parameter>`s, or `<Say>` and
 * `<Hangup/>` when the bridge turns the call away.
 */

export interface StreamInstructions {
  url: string;
  /** Every `<Parameter>`, returned to the bridge as `start.customParameters`. */
  parameters: Record<string, string>;
  /** `<Start><Stream>` is a one-way fork: the bridge could not talk back on it. */
  bidirectional: boolean;
}

export interface TwimlInstructions {
  stream?: StreamInstructions;
  /** Texts of `<Say>` verbs, in order. */
  says: string[];
  hangup: boolean;
  /** Other verbs seen (Dial, Redirect, Play, ...), for the message when there is no stream. */
  otherVerbs: string[];
}

export class TwimlError extends Error {
  override name = 'TwimlError';
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeXmlEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code =
        name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : Number(name.slice(1));
      return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

function attributesOf(source: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const match of source.matchAll(/([A-Za-z_:][-\w:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    attributes[match[1]] = decodeXmlEntities(match[2] ?? match[3] ?? '');
  }
  return attributes;
}

/**
 * Reads TwiML with a small tag scanner (TwiML is flat and machine-written; a full XML parser is
 * not worth a dependency here).
 */
export function parseTwiml(xml: string): TwimlInstructions {
  const result: TwimlInstructions = { says: [], hangup: false, otherVerbs: [] };
  const open: string[] = [];
  let sayText: string | undefined;
  const tags = /<(\/?)([A-Za-z][\w:.-]*)([^>]*?)(\/?)>|<\?[^>]*\?>|<!--[\s\S]*?-->/g;
  let last = 0;
  for (const match of xml.matchAll(tags)) {
    if (sayText !== undefined) sayText += xml.slice(last, match.index);
    last = match.index + match[0].length;
    const [, closing, name, rawAttributes, selfClosing] = match;
    if (!name) continue; // processing instruction or comment
    if (closing) {
      if (name === 'Say' && sayText !== undefined) {
        result.says.push(decodeXmlEntities(sayText.trim()));
        sayText = undefined;
      }
      open.pop();
      continue;
    }
    const attributes = attributesOf(rawAttributes);
    const parent = open.at(-1);
    if (name === 'Stream') {
      if (!attributes.url) throw new TwimlError('<Stream> without a url');
      result.stream = { url: attributes.url, parameters: {}, bidirectional: parent === 'Connect' };
    } else if (name === 'Parameter' && parent === 'Stream' && result.stream) {
      if (attributes.name !== undefined) {
        result.stream.parameters[attributes.name] = attributes.value ?? '';
      }
    } else if (name === 'Say') {
      sayText = '';
    } else if (name === 'Hangup') {
      result.hangup = true;
    } else if (!['Response', 'Connect', 'Start'].includes(name)) {
      result.otherVerbs.push(name);
    }
    if (!selfClosing) open.push(name);
    // <Say/> (empty) never gets a closing tag
    if (selfClosing && name === 'Say') sayText = undefined;
  }
  return result;
}

export interface WebhookOptions {
  /** The bridge's base URL as this machine reaches it, e.g. http://localhost:8080. */
  baseUrl: string;
  /** The base URL Twilio would have requested (the bridge's PUBLIC_URL), for the signature. */
  publicUrl?: string;
  /** The bridge's TWILIO_AUTH_TOKEN; without it the request goes unsigned. */
  authToken?: string;
  params: Record<string, string>;
  timeoutMs?: number;
}

export const TWIML_PATH = '/api/twiml';

/** POSTs the voice webhook, signed as Twilio signs it, and returns the TwiML text. */
export async function fetchTwiml(options: WebhookOptions): Promise<string> {
  const requestUrl = `${options.baseUrl}${TWIML_PATH}`;
  // Twilio signs the URL *it* requested, which is the public one when the bridge sits behind a
  // tunnel or proxy; the bridge checks against PUBLIC_URL (or its Host header) the same way.
  const signedUrl = `${options.publicUrl ?? options.baseUrl}${TWIML_PATH}`;
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    'user-agent': 'TwilioProxy/1.1 (twilio-realtime-bridge simulator)',
  };
  if (options.authToken) {
    headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(
      options.authToken,
      signedUrl,
      options.params,
    );
  }
  let response: Response;
  try {
    response = await fetch(requestUrl, {
      method: 'POST',
      headers,
      body: new URLSearchParams(options.params).toString(),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new TwimlError(
      `cannot reach the bridge at ${options.baseUrl}: ${cause?.code ?? cause?.message ?? (error as Error).message}` +
        ' (is it running? pass --url to point elsewhere)',
    );
  }
  const body = await response.text();
  if (response.status === 403) {
    throw new TwimlError(
      options.authToken
        ? `the bridge refused the webhook signature (403): --auth-token / TWILIO_AUTH_TOKEN must be the bridge's TWILIO_AUTH_TOKEN, and if the bridge has PUBLIC_URL set, pass the same value as --public-url (signed ${signedUrl})`
        : "the bridge checks Twilio signatures (403): pass --auth-token or set TWILIO_AUTH_TOKEN to the bridge's TWILIO_AUTH_TOKEN",
    );
  }
  if (response.status === 503) {
    throw new TwimlError(`the bridge is not taking calls (503: ${body.slice(0, 200).trim()})`);
  }
  if (response.status !== 200) {
    throw new TwimlError(
      `${TWIML_PATH} answered HTTP ${response.status}: ${body.slice(0, 300).trim()}`,
    );
  }
  return body;
}
