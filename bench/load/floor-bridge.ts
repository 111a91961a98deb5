/**
 * The floor of the load bench: the least work a Node bridge can do for the messages this bridge
 * exchanges at `INPUT_AUDIO_CHUNK_MS=0` (g711_ulaw only). It checks nothing and parses nothing
 * after `start`: a caller `media` frame's payload is found by a byte search and leaves at once
 * in an append made from a template; an OpenAI delta's audio the same way, as one media message
 * to Twilio, with a mark after it every fifth delta (~100 ms of audio, as this bridge does). Every
 * frame goes through `ws`'s public `send` with ws's defaults, as this bridge's do: a random
 * masking key on the OpenAI socket, UTF-8 checked on both (RFC 6455 sections 5.3 and 8.1).
 * Issue 25 moved it there from ready-made frames written to ws's private socket, a zero mask and
 * no UTF-8 check, so that it measures the least a bridge by the RFC and ws's public API costs.
 *
 * It is not a bridge anyone should run. It answers one question: how much of the naive bridge's
 * CPU is left when a bridge's own per-message code costs next to nothing, and the same reads,
 * writes and wake-ups remain? Run it in the service's place:
 *   npm run bench:load -- --calls 50 --seconds 15 --format g711_ulaw \
 *     --service-main dist-tools/bench/load/floor-bridge.js
 */
import WebSocket, { type RawData } from 'ws';
import { baselineEnv, baselineSessionUpdate, serveBaselineBridge } from './baseline-server.js';

const MARK_EVERY_DELTAS = 5;
const PAYLOAD_KEY = Buffer.from('"payload":"');
const DELTA_KEY = Buffer.from('"delta":"');
const DELTA_TYPE = Buffer.from('"response.output_audio.delta"');
const QUOTE = 0x22;

if (baselineEnv.inputFormat !== 'g711_ulaw') {
  console.error(
    'floor-bridge passes g711_ulaw through and converts nothing: run it with --format g711_ulaw',
  );
  process.exit(2);
}

/** The string value after `key` in `data`, or undefined; base64 holds no escapes. */
function valueAfter(data: Buffer, key: Buffer): string | undefined {
  const at = data.indexOf(key);
  if (at < 0) return undefined;
  const start = at + key.length;
  const end = data.indexOf(QUOTE, start);
  return end < 0 ? undefined : data.toString('latin1', start, end);
}

function bridge(twilio: WebSocket): void {
  let streamSid = '';
  let deltas = 0;
  const openai = new WebSocket(baselineEnv.realtimeUrl, {
    headers: { Authorization: `Bearer ${baselineEnv.apiKey}` },
    perMessageDeflate: false,
  });

  openai.on('open', () => openai.send(baselineSessionUpdate(false)));
  openai.on('message', (data: RawData) => {
    const bytes = data as Buffer;
    if (bytes.indexOf(DELTA_TYPE) < 0) return;
    const delta = valueAfter(bytes, DELTA_KEY);
    if (delta === undefined) return;
    twilio.send(`{"event":"media","streamSid":"${streamSid}","media":{"payload":"${delta}"}}`);
    if (++deltas % MARK_EVERY_DELTAS === 0) {
      twilio.send(`{"event":"mark","streamSid":"${streamSid}","mark":{"name":"m${deltas}"}}`);
    }
  });
  openai.on('error', () => undefined);

  twilio.on('message', (data: RawData) => {
    const bytes = data as Buffer;
    if (!streamSid) {
      const message = JSON.parse(bytes.toString()) as {
        event: string;
        start?: { streamSid: string };
      };
      if (message.event === 'start') streamSid = message.start?.streamSid ?? '';
      return;
    }
    const payload = valueAfter(bytes, PAYLOAD_KEY);
    if (payload === undefined || openai.readyState !== WebSocket.OPEN) return;
    openai.send(`{"type":"input_audio_buffer.append","audio":"${payload}"}`);
  });
  twilio.on('close', () => openai.close());
}

serveBaselineBridge(bridge, { perMessageDeflate: false });
