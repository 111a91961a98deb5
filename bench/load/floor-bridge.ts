/**
 * The floor of the load bench: the least work a Node bridge can do for the messages this bridge
 * exchanges at `INPUT_AUDIO_CHUNK_MS=0` (g711_ulaw only). It checks nothing and parses nothing
 * after `start`: a caller `media` frame's payload is found by a byte search and leaves at once
 * as one ready-made append frame; an OpenAI delta's audio the same way, as one media frame to
 * Twilio, with a mark in the same write every fifth delta (~100 ms of audio, as this bridge
 * does). Sockets skip UTF-8 validation and the OpenAI socket masks with a zero key.
 *
 * It is not a bridge anyone should run. It answers one question: how much of the naive bridge's
 * CPU is left when a bridge's own per-message code costs next to nothing, and the same reads,
 * writes and wake-ups remain? Run it in the service's place:
 *   npm run bench:load -- --calls 50 --seconds 15 --format g711_ulaw \
 *     --service-main dist-tools/bench/load/floor-bridge.js
 */
import WebSocket, { type RawData } from 'ws';
import { encodeTextFrame, encodeTextFramePair, zeroMask } from '../../src/common/ws-frame.js';
import { rawSocketOf } from '../lib/raw-socket.js';
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
    skipUTF8Validation: true,
    generateMask: zeroMask,
  });

  openai.on('open', () => openai.send(baselineSessionUpdate(false)));
  openai.on('message', (data: RawData) => {
    const bytes = data as Buffer;
    if (bytes.indexOf(DELTA_TYPE) < 0) return;
    const delta = valueAfter(bytes, DELTA_KEY);
    if (delta === undefined) return;
    const media = `{"event":"media","streamSid":"${streamSid}","media":{"payload":"${delta}"}}`;
    const frame =
      ++deltas % MARK_EVERY_DELTAS === 0
        ? encodeTextFramePair(
            media,
            `{"event":"mark","streamSid":"${streamSid}","mark":{"name":"m${deltas}"}}`,
            false,
          )
        : encodeTextFrame(media, false);
    rawSocketOf(twilio).write(frame);
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
    rawSocketOf(openai).write(
      encodeTextFrame(`{"type":"input_audio_buffer.append","audio":"${payload}"}`, true),
    );
  });
  twilio.on('close', () => openai.close());
}

serveBaselineBridge(bridge, { perMessageDeflate: false, skipUTF8Validation: true });
