/**
 * What the load bench asks of a bridge run in the service's place (naive-bridge.ts,
 * floor-bridge.ts): the variables it sets for the service, POST /api/twiml answered with a
 * `<Connect><Stream>` to /media-stream, GET /health with `activeCalls`, and exit 0 on SIGTERM.
 * Nothing is checked: these bridges exist to be measured against.
 */
import { createServer } from 'node:http';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';

export const baselineEnv = {
  port: Number(process.env.PORT ?? 8080),
  realtimeUrl: `${process.env.OPENAI_REALTIME_URL ?? 'wss://api.openai.com/v1/realtime'}?model=gpt-realtime`,
  apiKey: process.env.OPENAI_API_KEY ?? '',
  inputFormat: process.env.AUDIO_INPUT_FORMAT ?? 'pcm16',
};

/** The one client event these bridges send besides audio: the session's audio formats. */
export function baselineSessionUpdate(pcm16Input: boolean): string {
  return JSON.stringify({
    type: 'session.update',
    session: {
      type: 'realtime',
      audio: {
        input: { format: pcm16Input ? { type: 'audio/pcm', rate: 24000 } : { type: 'audio/pcmu' } },
        output: { format: { type: 'audio/pcmu' } },
      },
    },
  });
}

/** Serves `bridge` for every media WebSocket, with the socket options given. */
export function serveBaselineBridge(
  bridge: (twilio: WebSocket) => void,
  socketOptions: Pick<ServerOptions, 'perMessageDeflate'> = {},
): void {
  let activeCalls = 0;
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url?.startsWith('/api/twiml')) {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Response><Connect>` +
          `<Stream url="ws://${req.headers.host}/media-stream"/></Connect></Response>`,
      );
    } else if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok', activeCalls }));
    } else {
      res.writeHead(404).end();
    }
  });
  new WebSocketServer({ server, path: '/media-stream', ...socketOptions }).on(
    'connection',
    (twilio: WebSocket) => {
      activeCalls++;
      twilio.on('close', () => activeCalls--);
      bridge(twilio);
    },
  );
  server.listen(baselineEnv.port);
  process.on('SIGTERM', () => process.exit(0));
}
