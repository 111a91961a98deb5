import { listenOutbound, parseListenMessage } from './listen.messages.js';

describe('listen client messages', () => {
  it('reads the three requests', () => {
    expect(parseListenMessage('{"event":"takeover"}')).toEqual({
      ok: true,
      message: { event: 'takeover' },
    });
    expect(parseListenMessage('{"event":"media","payload":"AAAA"}')).toEqual({
      ok: true,
      message: { event: 'media', payload: 'AAAA' },
    });
    expect(parseListenMessage('{"event":"handback","note":"n"}')).toEqual({
      ok: true,
      message: { event: 'handback', note: 'n' },
    });
    expect(parseListenMessage('{"event":"handback"}')).toEqual({
      ok: true,
      message: { event: 'handback' },
    });
  });

  it('refuses anything else with a reason', () => {
    for (const text of [
      'nope',
      '[]',
      '{"event":"start"}',
      '{"event":"media"}',
      '{"event":"media","payload":"not base64!"}',
      '{"event":"handback","note":5}',
    ]) {
      expect(parseListenMessage(text)).toMatchObject({ ok: false, reason: expect.any(String) });
    }
  });

  it('writes media frames that parse as the contract says', () => {
    expect(JSON.parse(listenOutbound.media('caller', 20.4, Buffer.from([255])))).toEqual({
      event: 'media',
      track: 'caller',
      timestamp: 20,
      payload: '/w==',
    });
  });
});
