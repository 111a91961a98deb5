import {
  MAX_EXCESS_OTHER_FRAMES,
  MAX_OTHER_FRAMES_PER_S,
  MEDIA_BYTES_PER_SECOND,
  MEDIA_CATCH_UP_S,
  MIN_MEDIA_FRAME_BYTES,
  MediaRateLimiter,
  OTHER_FRAMES_BURST,
  TokenBucket,
} from './media-rate-limiter.js';

const FRAME = Buffer.alloc(160).toString('base64'); // 20 ms of mu-law

describe('TokenBucket', () => {
  it('allows its burst at once, then its rate', () => {
    const bucket = new TokenBucket(10, 5, 0);
    for (let i = 0; i < 5; i++) expect(bucket.take(1, 0)).toBe(true);
    expect(bucket.take(1, 0)).toBe(false);
    expect(bucket.take(1, 100)).toBe(true);
    expect(bucket.take(1, 100)).toBe(false);
  });
});

describe('MediaRateLimiter', () => {
  it('forwards a real-time stream untouched', () => {
    let now = 0;
    const limiter = new MediaRateLimiter(() => now);
    for (let i = 0; i < 3000; i++, now += 20) expect(limiter.audio(FRAME)).toBe('forward');
    expect(limiter.droppedFrames).toBe(0);
  });

  it('lets a burst of up to 2x over one second through', () => {
    let now = 0;
    const limiter = new MediaRateLimiter(() => now);
    // 95 frames (1.9 s of audio) within one second.
    for (let i = 0; i < 95; i++, now += 10) expect(limiter.audio(FRAME)).toBe('forward');
  });

  it('forwards what a stalled stream delivers at once, up to MEDIA_CATCH_UP_S of it', () => {
    let now = 0;
    const limiter = new MediaRateLimiter(() => now);
    for (let i = 0; i < 50; i++, now += 20) expect(limiter.audio(FRAME)).toBe('forward');
    // Three seconds with nothing, then those three seconds' frames together.
    now += 3000;
    for (let i = 0; i < 150; i++) expect(limiter.audio(FRAME)).toBe('forward');
    expect(limiter.droppedFrames).toBe(0);
    // A longer silence saves no more than MEDIA_CATCH_UP_S (plus nothing: the burst was spent).
    now += 60_000;
    const forwarded = Array.from({ length: 400 }, () => limiter.audio(FRAME)).filter(
      (verdict) => verdict === 'forward',
    );
    expect(forwarded).toHaveLength((MEDIA_CATCH_UP_S * MEDIA_BYTES_PER_SECOND) / 160);
  });

  it('drops the frames beyond the burst before it closes the stream', () => {
    const limiter = new MediaRateLimiter(() => 0);
    for (let i = 0; i < MEDIA_BYTES_PER_SECOND / 160; i++)
      expect(limiter.audio(FRAME)).toBe('forward');
    expect(limiter.audio(FRAME)).toBe('drop');
    expect(limiter.droppedFrames).toBe(1);
  });

  it('forwards no more than real time (plus the burst) of a 10x stream, then closes it', () => {
    let now = 0;
    const limiter = new MediaRateLimiter(() => now);
    let forwardedBytes = 0;
    let verdict = 'forward';
    let frames = 0;
    while (verdict !== 'close') {
      verdict = limiter.audio(FRAME);
      if (verdict === 'forward') forwardedBytes += 160;
      now += 2;
      frames++;
    }
    const elapsedS = now / 1000;
    expect(forwardedBytes).toBeLessThanOrEqual((elapsedS + 1) * MEDIA_BYTES_PER_SECOND + 160);
    expect(limiter.droppedFrames).toBeGreaterThan(500);
    expect(frames).toBeLessThan(1000);
  });

  it('holds a flood of one-byte frames to 100 a second (plus the burst), then closes it', () => {
    let now = 0;
    const limiter = new MediaRateLimiter(() => now);
    const tiny = Buffer.alloc(1).toString('base64');
    let forwarded = 0;
    let verdict = 'forward';
    while (verdict !== 'close') {
      verdict = limiter.audio(tiny);
      if (verdict === 'forward') forwarded++;
      now += 0.125; // 8,000 frames a second
    }
    const perSecond = MEDIA_BYTES_PER_SECOND / MIN_MEDIA_FRAME_BYTES;
    expect(perSecond).toBe(100);
    expect(forwarded).toBeLessThanOrEqual((now / 1000 + 1) * perSecond + 1);
    expect(now).toBeLessThan(20_000);
  });

  it('lets through the mark echoes of a clear at once, however many Twilio held, up to its burst', () => {
    let now = 0;
    const limiter = new MediaRateLimiter(() => now);
    const mark = { event: 'mark', streamSid: 'MZ1', mark: { name: 'm' } } as const;
    // Marks go out with the audio, ~10 a second, and come back as it plays; then a clear.
    for (; now < 60_000; now += 100) expect(limiter.frame(mark)).toBe('forward');
    const echoes = Array.from({ length: OTHER_FRAMES_BURST + 1 }, () => limiter.frame(mark));
    expect(echoes.filter((v) => v === 'forward')).toHaveLength(OTHER_FRAMES_BURST);
    expect(echoes.at(-1)).toBe('drop');
    now += 1000;
    const next = Array.from({ length: MAX_OTHER_FRAMES_PER_S + 1 }, () => limiter.frame(mark));
    expect(next.filter((v) => v === 'forward')).toHaveLength(MAX_OTHER_FRAMES_PER_S);
  });

  it('closes a stream whose other frames keep coming faster than Twilio sends', () => {
    const limiter = new MediaRateLimiter(() => 0);
    const stop = { event: 'stop', streamSid: 'MZ1' } as const;
    const verdicts = Array.from({ length: OTHER_FRAMES_BURST + MAX_EXCESS_OTHER_FRAMES + 1 }, () =>
      limiter.frame(stop as never),
    );
    expect(verdicts.filter((v) => v === 'forward')).toHaveLength(OTHER_FRAMES_BURST);
    expect(verdicts.filter((v) => v === 'drop')).toHaveLength(MAX_EXCESS_OTHER_FRAMES);
    expect(verdicts.at(-1)).toBe('close');
  });

  it('drops key presses beyond what a person can type', () => {
    const limiter = new MediaRateLimiter(() => 0);
    const verdicts = Array.from({ length: 50 }, () => limiter.keyPress());
    expect(verdicts.filter((v) => v === 'forward')).toHaveLength(10);
    expect(verdicts.filter((v) => v === 'drop')).toHaveLength(40);
    expect(limiter.droppedFrames).toBe(40);
  });
});
