import type { IncomingMessage } from 'node:http';
import { clientAddress } from './client-address.js';

const request = (headers: IncomingMessage['headers'], peer = '10.0.0.9') =>
  ({ headers, socket: { remoteAddress: peer } }) as unknown as IncomingMessage;

describe('clientAddress', () => {
  it('is the socket peer without a trusted proxy, whatever X-Forwarded-For says', () => {
    expect(clientAddress(request({ 'x-forwarded-for': '1.2.3.4' }), false)).toBe('10.0.0.9');
  });

  it('is the rightmost X-Forwarded-For entry (the one the proxy appended) behind one', () => {
    const req = request({ 'x-forwarded-for': '6.6.6.6, 7.7.7.7 ,203.0.113.5' });
    expect(clientAddress(req, true)).toBe('203.0.113.5');
  });

  it('trims the rightmost entry, and reads repeated headers in the order received', () => {
    expect(clientAddress(request({ 'x-forwarded-for': '6.6.6.6,  203.0.113.5 ' }), true)).toBe(
      '203.0.113.5',
    );
    const repeated = request({ 'x-forwarded-for': ['6.6.6.6', '203.0.113.7'] });
    expect(clientAddress(repeated, true)).toBe('203.0.113.7');
  });

  it('says unknown for a socket that has no peer address any more', () => {
    const req = { headers: {}, socket: {} } as unknown as IncomingMessage;
    expect(clientAddress(req, false)).toBe('unknown');
  });

  it('is the peer behind a trusted proxy that sent no X-Forwarded-For', () => {
    expect(clientAddress(request({}), true)).toBe('10.0.0.9');
    expect(clientAddress(request({ 'x-forwarded-for': ' , ' }), true)).toBe('10.0.0.9');
  });

  it('cuts a value no address is as long as', () => {
    expect(clientAddress(request({ 'x-forwarded-for': 'x'.repeat(5000) }), true)).toHaveLength(64);
  });
});
