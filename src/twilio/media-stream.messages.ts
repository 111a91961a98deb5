import { isBase64, isObject, isString, type Json } from '../text/json-guards.js';
import { withoutControlCharacters } from '../text/plain-text.js';

/**
 * Twilio Media Streams WebSocket messages (https://www.twilio.com/docs/voice/media-streams/websocket-messages),
 * parsed and validated at the edge so the rest of the bridge can trust its types. Counters and
 * timestamps arrive as strings; we keep them so and parse only what we use.
 */

export interface ConnectedFrame {
  event: 'connected';
  protocol?: string;
  version?: string;
}

export interface StartFrame {
  event: 'start';
  streamSid: string;
  start: {
    accountSid: string;
    callSid: string;
    streamSid: string;
    tracks: string[];
    customParameters: Record<string, string>;
    mediaFormat: { encoding: string; sampleRate: number; channels: number };
  };
}

export interface MediaFrame {
  event: 'media';
  streamSid: string;
  media: { track?: string; chunk?: string; timestamp?: string; payload: string };
}

export interface MarkFrame {
  event: 'mark';
  streamSid: string;
  mark: { name: string };
}

export interface DtmfFrame {
  event: 'dtmf';
  streamSid: string;
  dtmf: { track?: string; digit: string };
}

export interface StopFrame {
  event: 'stop';
  streamSid: string;
  stop?: { accountSid?: string; callSid?: string };
}

/** Twilio's inbound frame: 20 ms in practice (not a contract: durations come from byte counts). */
export const TWILIO_FRAME_MS = 20;

export type TwilioInboundFrame =
  ConnectedFrame | StartFrame | MediaFrame | MarkFrame | DtmfFrame | StopFrame;

export type FrameParseResult =
  { ok: true; frame: TwilioInboundFrame } | { ok: false; reason: string };

const SID = /^[A-Za-z0-9_-]{1,64}$/;

const isNonEmptyString = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0;
const isOptionalString = (value: unknown): boolean => value === undefined || isString(value);

const fail = (reason: string): FrameParseResult => ({ ok: false, reason });

/** Parses one text frame from Twilio; never throws. */
export function parseTwilioFrame(text: string): FrameParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('not JSON');
  }
  if (!isObject(value)) return fail('not a JSON object');
  const event = value.event;
  switch (event) {
    case 'connected':
      return {
        ok: true,
        frame: { event, protocol: str(value.protocol), version: str(value.version) },
      };
    case 'start':
      return parseStart(value);
    case 'media':
      return parseMedia(value);
    case 'mark': {
      const mark = value.mark;
      if (!isNonEmptyString(value.streamSid)) return fail('mark without streamSid');
      if (!isObject(mark) || !isString(mark.name)) return fail('mark without mark.name');
      return { ok: true, frame: { event, streamSid: value.streamSid, mark: { name: mark.name } } };
    }
    case 'dtmf': {
      const dtmf = value.dtmf;
      if (!isNonEmptyString(value.streamSid)) return fail('dtmf without streamSid');
      if (!isObject(dtmf) || !isString(dtmf.digit) || !/^[0-9*#A-D]$/.test(dtmf.digit)) {
        return fail('dtmf without a valid dtmf.digit');
      }
      return {
        ok: true,
        frame: {
          event,
          streamSid: value.streamSid,
          dtmf: { track: str(dtmf.track), digit: dtmf.digit },
        },
      };
    }
    case 'stop': {
      if (!isNonEmptyString(value.streamSid)) return fail('stop without streamSid');
      const stop = isObject(value.stop)
        ? { accountSid: str(value.stop.accountSid), callSid: str(value.stop.callSid) }
        : undefined;
      return { ok: true, frame: { event, streamSid: value.streamSid, stop } };
    }
    default:
      return fail(`unknown event ${JSON.stringify(event)?.slice(0, 40) ?? 'undefined'}`);
  }
}

function str(value: unknown): string | undefined {
  return isString(value) ? value : undefined;
}

function parseMedia(value: Json): FrameParseResult {
  const media = value.media;
  if (!isNonEmptyString(value.streamSid)) return fail('media without streamSid');
  // Twilio's frames always carry audio: an empty one is no frame (it would pass the byte-rate
  // limit for free and keep an idle call alive).
  if (!isObject(media) || !isNonEmptyString(media.payload)) {
    return fail('media without media.payload');
  }
  if (!isBase64(media.payload)) return fail('media payload is not valid base64');
  if (
    !isOptionalString(media.track) ||
    !isOptionalString(media.chunk) ||
    !isOptionalString(media.timestamp)
  ) {
    return fail('media with malformed track/chunk/timestamp');
  }
  return {
    ok: true,
    frame: {
      event: 'media',
      streamSid: value.streamSid,
      media: {
        track: str(media.track),
        chunk: str(media.chunk),
        timestamp: str(media.timestamp),
        payload: media.payload,
      },
    },
  };
}

function parseStart(value: Json): FrameParseResult {
  const start = value.start;
  if (!isObject(start)) return fail('start without start object');
  const streamSid = isNonEmptyString(value.streamSid) ? value.streamSid : start.streamSid;
  // The streamSid is echoed into every frame we send back, so it must be a plain token.
  if (!isNonEmptyString(streamSid) || !SID.test(streamSid))
    return fail('start without a valid streamSid');
  if (!isNonEmptyString(start.callSid)) return fail('start without start.callSid');
  if (!isString(start.accountSid)) return fail('start without start.accountSid');
  const customParameters: Record<string, string> = {};
  if (start.customParameters !== undefined) {
    if (!isObject(start.customParameters)) return fail('start.customParameters is not an object');
    for (const [name, param] of Object.entries(start.customParameters)) {
      // Parameters are stored (the call's context, /api/calls) and logged: no control characters
      // in either names or values, stripped before anything reads them.
      const key = withoutControlCharacters(name);
      if (!isString(param)) return fail(`start.customParameters.${key} is not a string`);
      if (key !== '' && !Object.hasOwn(customParameters, key)) {
        customParameters[key] = withoutControlCharacters(param);
      }
    }
  }
  const format = isObject(start.mediaFormat) ? start.mediaFormat : {};
  const mediaFormat = {
    encoding: str(format.encoding) ?? 'audio/x-mulaw',
    sampleRate: typeof format.sampleRate === 'number' ? format.sampleRate : 8000,
    channels: typeof format.channels === 'number' ? format.channels : 1,
  };
  if (
    mediaFormat.encoding !== 'audio/x-mulaw' ||
    mediaFormat.sampleRate !== 8000 ||
    mediaFormat.channels !== 1
  ) {
    return fail(
      `unsupported media format ${mediaFormat.encoding}/${mediaFormat.sampleRate}/${mediaFormat.channels}`,
    );
  }
  const tracks = Array.isArray(start.tracks) ? start.tracks.filter(isString) : ['inbound'];
  return {
    ok: true,
    frame: {
      event: 'start',
      streamSid,
      start: {
        accountSid: start.accountSid,
        callSid: start.callSid,
        streamSid,
        tracks,
        customParameters,
        mediaFormat,
      },
    },
  };
}

/** Builders for the three messages Twilio accepts from us. Strings are built directly (this is
 * the hot path, one per 20 ms per call); `streamSid` and `payload` are validated before use, so
 * neither can carry a quote. */
export const twilioOutbound = {
  media: (streamSid: string, payloadBase64: string): string =>
    `{"event":"media","streamSid":"${streamSid}","media":{"payload":"${payloadBase64}"}}`,
  mark: (streamSid: string, name: string): string =>
    `{"event":"mark","streamSid":"${streamSid}","mark":{"name":"${name}"}}`,
  clear: (streamSid: string): string => `{"event":"clear","streamSid":"${streamSid}"}`,
};
