import { MULAW_BYTES_PER_MS } from '../audio/mulaw.js';
import { base64DecodedLength } from '../text/json-guards.js';
import type { TwilioInboundFrame } from '../twilio/media-stream.messages.js';

/** Twilio's media is 8 kHz mu-law: 8,000 bytes are one second of the caller. */
export const MEDIA_BYTES_PER_SECOND = 1000 * MULAW_BYTES_PER_MS;
/**
 * Extra audio a stream may send ahead of real time: network jitter delivers frames in clumps,
 * so up to 2x real time over one second passes; beyond that, frames are dropped.
 */
export const MEDIA_BURST_S = 1;
/**
 * Audio a stream may deliver at once after a stall (a network hiccup holds Twilio's frames, which
 * then arrive together): the time it went quiet is saved up to this much, on top of the burst
 * it starts with. Twilio sends silence as frames too, so only a stall saves any.
 */
export const MEDIA_CATCH_UP_S = 5;
/** A stream whose dropped, faster-than-real-time audio adds up to this much is closed. */
export const MAX_EXCESS_MEDIA_S = 10;
/**
 * The least one frame is charged, in bytes (10 ms of audio; Twilio sends 20 ms frames): the
 * limit is on frames as much as on audio, so that a flood of tiny frames (each an event sent
 * to OpenAI) is held to 100 a second like any other excess.
 */
export const MIN_MEDIA_FRAME_BYTES = 10 * MULAW_BYTES_PER_MS;
/** Key presses a stream may send per second (a person manages a few), with the same burst. */
export const MAX_DTMF_PER_S = 10;
/**
 * Other frames (mark echoes; `connected` or `stop` again) a stream may send per second: Twilio
 * echoes the marks the bridge sends, one per ~100 ms of audio and one per item.
 */
export const MAX_OTHER_FRAMES_PER_S = 50;
/**
 * Other frames saved up, and let through at the start: after a `clear` Twilio echoes at once
 * every mark still queued, one per ~100 ms of the audio it held (2,000 is over three minutes of
 * it). A mark echo dropped would leave the playback clock waiting for it.
 */
export const OTHER_FRAMES_BURST = 2_000;
/** A stream whose other frames beyond the rate add up to this many is closed (`frame_flood`). */
export const MAX_EXCESS_OTHER_FRAMES = 500;

const TOO_FAST: Partial<Record<TwilioInboundFrame['event'], string>> = {
  media: 'media faster than real time',
  dtmf: 'key presses faster than a person types',
};

/** Why a frame the limiter did not let through was dropped. */
export function tooFast(event: TwilioInboundFrame['event']): string {
  return TOO_FAST[event] ?? `${event} frames faster than Twilio sends`;
}

/**
 * A token bucket: `ratePerS` units a second, up to `burst` saved up, `initial` (default: a full
 * bucket) at the start. Time comes from the caller so that tests can drive it.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
    now: number,
    initial = burst,
  ) {
    this.tokens = initial;
    this.last = now;
  }

  take(amount: number, now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerS);
    this.last = now;
    if (this.tokens < amount) return false;
    this.tokens -= amount;
    return true;
  }
}

export type MediaVerdict = 'forward' | 'drop' | 'close';

/**
 * Caller audio is forwarded to OpenAI at no more than real time (plus MEDIA_BURST_S, and after a
 * stall up to MEDIA_CATCH_UP_S of what it held back): anyone holding one stream could otherwise
 * push half an hour of audio into a paid session in seconds. Frames beyond are dropped and
 * counted; a stream that keeps it up is closed.
 */
export class MediaRateLimiter {
  droppedFrames = 0;
  private excessBytes = 0;
  private excessOtherFrames = 0;
  private readonly media: TokenBucket;
  private readonly dtmf: TokenBucket;
  private readonly other: TokenBucket;

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly maxExcessBytes = MAX_EXCESS_MEDIA_S * MEDIA_BYTES_PER_SECOND,
  ) {
    const start = now();
    this.media = new TokenBucket(
      MEDIA_BYTES_PER_SECOND,
      MEDIA_BYTES_PER_SECOND * Math.max(MEDIA_BURST_S, MEDIA_CATCH_UP_S),
      start,
      MEDIA_BYTES_PER_SECOND * MEDIA_BURST_S,
    );
    this.dtmf = new TokenBucket(MAX_DTMF_PER_S, MAX_DTMF_PER_S, start);
    this.other = new TokenBucket(MAX_OTHER_FRAMES_PER_S, OTHER_FRAMES_BURST, start);
  }

  /** One frame of a started stream: media by its audio, key presses and the rest by count. */
  frame(frame: TwilioInboundFrame): MediaVerdict {
    if (frame.event === 'media') return this.audio(frame.media.payload);
    if (frame.event === 'dtmf') return this.keyPress();
    if (this.other.take(1, this.now())) return 'forward';
    this.droppedFrames++;
    return ++this.excessOtherFrames > MAX_EXCESS_OTHER_FRAMES ? 'close' : 'drop';
  }

  /** One `media` frame's base64 payload. */
  audio(payloadBase64: string): MediaVerdict {
    const bytes = Math.max(base64DecodedLength(payloadBase64), MIN_MEDIA_FRAME_BYTES);
    if (this.media.take(bytes, this.now())) return 'forward';
    this.droppedFrames++;
    this.excessBytes += bytes;
    return this.excessBytes > this.maxExcessBytes ? 'close' : 'drop';
  }

  /** One key press. */
  keyPress(): 'forward' | 'drop' {
    if (this.dtmf.take(1, this.now())) return 'forward';
    this.droppedFrames++;
    return 'drop';
  }
}
