import twilio from 'twilio';
import WebSocket from 'ws';
import { TWIML_PATH } from '../twilio/public-url.js';
import { rawDataToString } from '../websocket/raw-data.js';
import { TEST_TWILIO_AUTH_TOKEN as TEST_AUTH_TOKEN } from './test-secrets.js';
import { TwilioPlayback } from './twilio-playback.js';
import { waitUntil } from './wait.js';

/** The Twilio account the fake caller's calls come from. */
export const TEST_ACCOUNT_SID = 'AC00000000000000000000000000000001';

/** A Media Streams message the bridge sent to Twilio. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read nested fields freely
export type TwilioFrame = { event: string } & Record<string, any>;

export interface WebhookCall {
  CallSid: string;
  From?: string;
  To?: string;
  [field: string]: string | undefined;
}

/** POSTs the voice webhook as Twilio does: form-encoded, signed with the twilio package. */
export async function postTwiml(
  baseUrl: string,
  fields: WebhookCall,
  options: { signature?: string | null; authToken?: string; path?: string } = {},
): Promise<Response> {
  const url = `${baseUrl}${options.path ?? TWIML_PATH}`;
  const params = Object.fromEntries(
    Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const signature =
    options.signature === undefined
      ? twilio.getExpectedTwilioSignature(options.authToken ?? TEST_AUTH_TOKEN, url, params)
      : options.signature;
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(signature === null ? {} : { 'x-twilio-signature': signature }),
    },
    body: new URLSearchParams(params).toString(),
  });
}

export interface StreamInstructions {
  url: string;
  parameters: Record<string, string>;
}

const XML_CHARS: Record<string, string> = { amp: '&', quot: '"', lt: '<', gt: '>' };

/** Reads `<Connect><Stream url><Parameter/>...` out of TwiML, as Twilio would. */
export function parseStreamTwiml(xml: string): StreamInstructions {
  const url = /<Stream url="([^"]+)"/.exec(xml)?.[1];
  if (!url) throw new Error(`no <Stream> in ${xml}`);
  const parameters: Record<string, string> = {};
  for (const match of xml.matchAll(/<Parameter name="([^"]+)" value="([^"]*)"\/>/g)) {
    parameters[match[1]] = match[2].replace(/&(amp|quot|lt|gt);/g, (_, c: string) => XML_CHARS[c]);
  }
  return { url: url.replace(/&amp;/g, '&'), parameters };
}

export interface CallerOptions {
  callSid?: string;
  streamSid?: string;
  /** `undefined`: sign the upgrade correctly; `null`: send no signature; a string: send it. */
  signature?: string | null;
  /** Echo marks back as Twilio does after playing (true by default). */
  acknowledgeMarks?: boolean;
  /** The caller's number the webhook gives (default +15550001111). */
  from?: string;
  /** The number called, as the webhook gives it (default +15550002222). */
  to?: string;
  /** The account's auth token that signs the webhook and the upgrade (default TEST_AUTH_TOKEN). */
  authToken?: string;
  /** The voice webhook's path (default TWIML_PATH, /api/twiml). */
  path?: string;
  /**
   * Play outbound audio in real time and echo each mark when playback reaches it, as Twilio
   * does (TwilioPlayback), instead of echoing marks at once.
   */
  playInRealTime?: boolean;
}

let counter = 0;
const sid = (prefix: string) => `${prefix}${(++counter).toString(16).padStart(32, '0')}`;

/** A fresh SID in Twilio's format (prefix + 32 hex digits), e.g. `testSid('CA')`. */
export const testSid = (prefix: 'CA' | 'MZ' | 'AC'): string => sid(prefix);

/**
 * Plays Twilio's side of a Media Stream with a real `ws` client: the webhook, the signed
 * upgrade, `connected`/`start`, 20 ms `media` frames, mark echoes, `stop`.
 */
export class FakeTwilioCall {
  readonly received: TwilioFrame[] = [];
  closeCode?: number;
  closeReason?: string;
  acknowledgeMarks: boolean;
  /** Set with `playInRealTime`: Twilio's playback of what the bridge sent. */
  playback?: TwilioPlayback;
  private sequence = 0;
  private chunk = 0;
  private hungUp = false;

  private constructor(
    readonly socket: WebSocket,
    readonly callSid: string,
    readonly streamSid: string,
    readonly parameters: Record<string, string>,
    options: CallerOptions,
  ) {
    this.acknowledgeMarks = options.acknowledgeMarks ?? true;
    if (options.playInRealTime) {
      this.playback = new TwilioPlayback((name) => this.ackMark(name));
      socket.on('close', () => this.playback?.dispose());
    }
    socket.on('message', (data) => {
      const frame = JSON.parse(rawDataToString(data)) as TwilioFrame;
      this.received.push(frame);
      if (this.playback) {
        if (frame.event === 'media') {
          this.playback.media(Buffer.from(payloadOf(frame), 'base64').length / 8);
        }
        if (frame.event === 'mark') this.playback.mark(markNameOf(frame));
        if (frame.event === 'clear') this.playback.clear();
        return;
      }
      if (frame.event === 'mark' && this.acknowledgeMarks) this.ackMark(markNameOf(frame));
    });
    socket.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
  }

  /** Webhook, then stream: the whole of what Twilio does when a call comes in. */
  static async dial(baseUrl: string, options: CallerOptions = {}): Promise<FakeTwilioCall> {
    const callSid = options.callSid ?? sid('CA');
    const response = await postTwiml(
      baseUrl,
      {
        CallSid: callSid,
        From: options.from ?? '+15550001111',
        To: options.to ?? '+15550002222',
        AccountSid: TEST_ACCOUNT_SID,
      },
      { authToken: options.authToken, path: options.path },
    );
    if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
    const stream = parseStreamTwiml(await response.text());
    const call = await FakeTwilioCall.open(stream, { ...options, callSid });
    call.start();
    return call;
  }

  /** Opens the stream socket (without sending `start`). */
  static async open(
    stream: StreamInstructions,
    options: CallerOptions = {},
  ): Promise<FakeTwilioCall> {
    const signature =
      options.signature === undefined
        ? twilio.getExpectedTwilioSignature(options.authToken ?? TEST_AUTH_TOKEN, stream.url, {})
        : options.signature;
    const socket = new WebSocket(stream.url, {
      headers: signature === null ? {} : { 'x-twilio-signature': signature },
      perMessageDeflate: false,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)),
      );
    });
    const call = new FakeTwilioCall(
      socket,
      options.callSid ?? sid('CA'),
      options.streamSid ?? sid('MZ'),
      stream.parameters,
      options,
    );
    call.send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    return call;
  }

  start(
    overrides: {
      callSid?: string;
      accountSid?: string;
      customParameters?: Record<string, string>;
    } = {},
  ): void {
    this.send({
      event: 'start',
      sequenceNumber: String(++this.sequence),
      streamSid: this.streamSid,
      start: {
        accountSid: overrides.accountSid ?? TEST_ACCOUNT_SID,
        callSid: overrides.callSid ?? this.callSid,
        streamSid: this.streamSid,
        tracks: ['inbound'],
        customParameters: overrides.customParameters ?? this.parameters,
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    });
  }

  /** One `media` frame of raw mu-law bytes (160 bytes = 20 ms). */
  sendMedia(mulaw: Buffer): void {
    this.chunk++;
    this.send({
      event: 'media',
      sequenceNumber: String(++this.sequence),
      streamSid: this.streamSid,
      media: {
        track: 'inbound',
        chunk: String(this.chunk),
        timestamp: String((this.chunk - 1) * 20),
        payload: mulaw.toString('base64'),
      },
    });
  }

  ackMark(name: string): void {
    this.send({
      event: 'mark',
      sequenceNumber: String(++this.sequence),
      streamSid: this.streamSid,
      mark: { name },
    });
  }

  stop(): void {
    this.send({
      event: 'stop',
      sequenceNumber: String(++this.sequence),
      streamSid: this.streamSid,
      stop: { accountSid: TEST_ACCOUNT_SID, callSid: this.callSid },
    });
  }

  send(frame: Record<string, unknown>): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  framesOf(event: string): TwilioFrame[] {
    return this.received.filter((frame) => frame.event === event);
  }

  /** Decoded mu-law bytes of every `media` frame received so far. */
  receivedAudio(): Buffer {
    return Buffer.concat(
      this.framesOf('media').map((frame) => Buffer.from(payloadOf(frame), 'base64')),
    );
  }

  async waitFor(
    event: string,
    predicate: (frame: TwilioFrame) => boolean = () => true,
  ): Promise<TwilioFrame> {
    let found: TwilioFrame | undefined;
    await waitUntil(() => {
      found = this.received.find((frame) => frame.event === event && predicate(frame));
      return found !== undefined;
    }, `Twilio frame ${event}`);
    return found!;
  }

  async waitForClose(timeoutMs = 5000): Promise<number> {
    await waitUntil(
      () => this.closeCode !== undefined,
      'the media stream socket to close',
      timeoutMs,
    );
    return this.closeCode!;
  }

  /** The close frame's code and reason once the bridge closed the stream (not this caller). */
  closedByBridge(): string | undefined {
    if (this.closeCode === undefined || this.hungUp) return undefined;
    const reason = this.closeReason ? `: ${this.closeReason}` : ', no reason given';
    return `the bridge closed the media stream (code ${this.closeCode}${reason})`;
  }

  hangUp(): void {
    this.hungUp = true;
    this.socket.close();
  }
}

/** The base64 audio of a `media` frame. */
const payloadOf = (frame: TwilioFrame): string => (frame.media as { payload: string }).payload;

/** The name of a `mark` frame. */
const markNameOf = (frame: TwilioFrame): string => (frame.mark as { name: string }).name;
