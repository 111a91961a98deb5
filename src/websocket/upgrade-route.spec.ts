import { matchRoute, MAX_UPGRADE_PATH_LENGTH, parseRoute } from './upgrade-route.js';

describe('upgrade routes', () => {
  it('matches a literal path exactly', () => {
    const route = parseRoute('/media-stream');
    expect(matchRoute(route, '/media-stream')).toEqual({});
    expect(matchRoute(route, '/media-stream/')).toBeUndefined();
    expect(matchRoute(route, '/media-streams')).toBeUndefined();
    expect(matchRoute(route, '/x/media-stream')).toBeUndefined();
  });

  it('gives each :name segment decoded, and only a whole non-empty segment', () => {
    const route = parseRoute('/api/calls/:callSid/listen');
    expect(matchRoute(route, '/api/calls/CA%2012/listen')).toEqual({ callSid: 'CA 12' });
    expect(matchRoute(route, '/api/calls//listen')).toBeUndefined();
    expect(matchRoute(route, '/api/calls/a/b/listen')).toBeUndefined();
    expect(matchRoute(route, '/api/calls/%E0%A4%A/listen')).toBeUndefined();
  });

  it('does not look at paths longer than MAX_UPGRADE_PATH_LENGTH', () => {
    const route = parseRoute('/api/calls/:callSid/listen');
    const long = `/api/calls/${'a'.repeat(MAX_UPGRADE_PATH_LENGTH)}/listen`;
    expect(matchRoute(route, long)).toBeUndefined();
  });

  it('refuses a pattern that is not a path, or a bad parameter name', () => {
    expect(() => parseRoute('media-stream')).toThrow(/must start with \//);
    expect(() => parseRoute('/api/:1x')).toThrow(/bad parameter name/);
  });
});
