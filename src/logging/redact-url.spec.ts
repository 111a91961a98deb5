import { redactUrl } from './redact-url.js';

describe('redactUrl', () => {
  it('redacts token, api_token and access_token values, in any case and position', () => {
    expect(redactUrl('/api/calls?token=s3cret')).toBe('/api/calls?token=[redacted]');
    expect(redactUrl('/x?a=1&API_TOKEN=s3cret&b=2')).toBe('/x?a=1&API_TOKEN=[redacted]&b=2');
    expect(redactUrl('/x?Access_Token=s3cret#frag')).toBe('/x?Access_Token=[redacted]#frag');
  });

  it('sees through percent-encoded names and bracket suffixes', () => {
    expect(redactUrl('/x?%74oken=s3cret')).toBe('/x?%74oken=[redacted]');
    expect(redactUrl('/x?token[]=a&token[b]=c')).toBe('/x?token[]=[redacted]&token[b]=[redacted]');
    expect(redactUrl('/x?to%ZZken=keep')).toBe('/x?to%ZZken=keep');
    // A form-encoded space around the name, as a URL-decoding server would read it.
    expect(redactUrl('/x?token+=s3cret')).toBe('/x?token+=[redacted]');
    expect(redactUrl('/x?+Token=s3cret')).toBe('/x?+Token=[redacted]');
    expect(redactUrl('/x?to+ken=keep')).toBe('/x?to+ken=keep');
    expect(redactUrl('?token=s3cret')).toBe('?token=[redacted]');
  });

  it('leaves other parameters and URLs without a query alone', () => {
    expect(redactUrl('/api/twiml')).toBe('/api/twiml');
    expect(redactUrl('/x?tokens=1&mytoken=2')).toBe('/x?tokens=1&mytoken=2');
    // A name with no value has nothing to hide.
    expect(redactUrl('/x?token&a=1')).toBe('/x?token&a=1');
    // Only the query is read as parameters.
    expect(redactUrl('/x&token=1')).toBe('/x&token=1');
  });
});
