/**
 * The naive baseline of the load bench: the bridge as the Twilio sample writes it
 * (twilio-samples/speech-assistant-openai-realtime-api-node), in plain Node with `ws` and no
 * framework. Every frame is `JSON.parse`d whole and every message built with `JSON.stringify`;
 * pcm16 audio goes through `Buffer.from(base64)`, a per-sample mu-law formula and the textbook
 * FIR of bench/lib/naive-codec.ts, all allocating per frame; no validation, no signature checks,
 * no backpressure, no logging.
 *
 * Run it in the service's place to get a ratio that one session can measure:
 *   npm run bench:load -- --calls 50 --seconds 20 --format g711_ulaw \
 *     --service-main dist-tools/bench/load/naive-bridge.js
 * bench/load/baseline-server.ts reads the variables the bench sets for the service and answers
 * what the bench asks besides the media stream.
 */
import WebSocket, { type RawData } from 'ws';
import { mulawToLinear } from '../../src/audio/mulaw.js';
import { NaiveUpsampler } from '../lib/naive-codec.js';
import { baselineEnv, baselineSessionUpdate, serveBaselineBridge } from './baseline-server.js';

const pcm16 = baselineEnv.inputFormat === 'pcm16';

interface TwilioMessage {
  event: string;
  start?: { streamSid: string };
  media?: { payload: string };
}

interface RealtimeMessage {
  type: string;
  item_id?: string;
  delta?: string;
}

function toPcm24k(payload: string, upsampler: NaiveUpsampler): string {
  const mulaw = Buffer.from(payload, 'base64');
  const samples = Array.from(mulaw, (code) => mulawToLinear(code));
  const upsampled = upsampler.process(samples);
  const pcm = Buffer.alloc(upsampled.length * 2);
  upsampled.forEach((sample, i) => pcm.writeInt16LE(sample, 2 * i));
  return pcm.toString('base64');
}

function bridge(twilio: WebSocket): void {
  let streamSid = '';
  let marks = 0;
  const upsampler = new NaiveUpsampler();
  const openai = new WebSocket(baselineEnv.realtimeUrl, {
    headers: { Authorization: `Bearer ${baselineEnv.apiKey}` },
  });

  openai.on('open', () => openai.send(baselineSessionUpdate(pcm16)));
  openai.on('message', (data: RawData) => {
    const message = JSON.parse((data as Buffer).toString()) as RealtimeMessage;
    if (message.type === 'response.output_audio.delta' && message.delta) {
      twilio.send(JSON.stringify({ event: 'media', streamSid, media: { payload: message.delta } }));
      twilio.send(
        JSON.stringify({
          event: 'mark',
          streamSid,
          mark: { name: `${message.item_id}:${++marks}` },
        }),
      );
    }
  });
  openai.on('error', () => undefined);

  twilio.on('message', (data: RawData) => {
    const message = JSON.parse((data as Buffer).toString()) as TwilioMessage;
    switch (message.event) {
      case 'start':
        streamSid = message.start?.streamSid ?? '';
        return;
      case 'media':
        if (openai.readyState === WebSocket.OPEN && message.media) {
          const audio = pcm16 ? toPcm24k(message.media.payload, upsampler) : message.media.payload;
          openai.send(JSON.stringify({ type: 'input_audio_buffer.append', audio }));
        }
        return;
      default:
        return;
    }
  });
  twilio.on('close', () => openai.close());
}

serveBaselineBridge(bridge);
