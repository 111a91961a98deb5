import { MULAW_BYTES_PER_MS } from '../audio/mulaw.js';
import { base64DecodedLength } from '../text/json-guards.js';

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
  private readonly media: TokenBucket;
  private readonly dtmf: TokenBucket;

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
