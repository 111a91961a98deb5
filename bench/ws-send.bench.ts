/**
 * bench:ws-send (issue 13, issue 25): what one outgoing WebSocket text frame costs the sending
 * process through `ws`'s public `send`, the way the bridge sends its per-frame messages,
 * measured with process.cpuUsage() (user and kernel) over real loopback sockets whose far ends
 * live in a child process:
 *   npm run build:tools && node dist-tools/bench/ws-send.bench.js [--frames N] [--rounds R]
 *
 * - client (the OpenAI socket, masked with ws's random keys): `input_audio_buffer.append` sent
 *   as a string, and as a Buffer with `{ binary: false }` (ws then masks it into one buffer with
 *   the header and writes once, instead of copying the text and writing header and payload);
 * - server (the Twilio socket): a `media` message alone, and a `media` + `mark` pair.
 * Variants alternate within every round, so machine noise hits them alike; medians are printed.
 */
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { noisePayload as payload } from './lib/noise-payload.js';

const CONNECTIONS = 50;
const BATCH_GAP_MS = 2;

interface Variant {
  name: string;
  side: 'client' | 'server';
  send: (socket: WebSocket, i: number) => void;
}

const AUDIO = Array.from({ length: 64 }, (_, i) => payload(160, i));
const STREAM_SID = 'MZ0123456789abcdef0123456789abcdef';
const append = (i: number) =>
  `{"type":"input_audio_buffer.append","event_id":"a${i.toString(36)}","audio":"${AUDIO[i & 63]}"}`;
const media = (i: number) =>
  `{"event":"media","streamSid":"${STREAM_SID}","media":{"payload":"${AUDIO[i & 63]}"}}`;
const mark = (i: number) =>
  `{"event":"mark","streamSid":"${STREAM_SID}","mark":{"name":"m${i.toString(36)}"}}`;

const variants: Variant[] = [
  { name: 'client: ws.send(string)', side: 'client', send: (s, i) => s.send(append(i)) },
  {
    name: 'client: ws.send(Buffer, text)',
    side: 'client',
    send: (s, i) => s.send(Buffer.from(append(i), 'latin1'), { binary: false }),
  },
  { name: 'server: ws.send media', side: 'server', send: (s, i) => s.send(media(i)) },
  {
    name: 'server: media+mark, two ws.send',
    side: 'server',
    send: (s, i) => {
      s.send(media(i));
      s.send(mark(i));
    },
  },
];

/** The far ends, in a child process so their CPU is not ours. */
const CHILD = `
const { WebSocket, WebSocketServer } = require(${JSON.stringify(require_resolve_ws())});
const [mode, port] = process.argv.slice(1);
if (mode === 'server') {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  wss.on('connection', (s) => s.on('message', () => {}));
  wss.on('listening', () => process.send(wss.address().port));
} else {
  let open = 0;
  for (let i = 0; i < ${CONNECTIONS}; i++) {
    const s = new WebSocket('ws://127.0.0.1:' + port);
    s.on('message', () => {});
    s.on('open', () => { if (++open === ${CONNECTIONS}) process.send('ready'); });
  }
}
`;

function require_resolve_ws(): string {
  return new URL('../../node_modules/ws/index.js', import.meta.url).pathname;
}

function child(args: string[]): Promise<{ message: unknown; kill: () => void }> {
  const proc = spawn(process.execPath, ['-e', CHILD, ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve) =>
    proc.once('message', (message) => resolve({ message, kill: () => proc.kill() })),
  );
}

async function clientSockets(): Promise<{ sockets: WebSocket[]; stop: () => void }> {
  const far = await child(['server']);
  const port = far.message as number;
  const sockets = await Promise.all(
    Array.from(
      { length: CONNECTIONS },
      () =>
        new Promise<WebSocket>((resolve) => {
          const s = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
          s.once('open', () => resolve(s));
        }),
    ),
  );
  return { sockets, stop: () => (sockets.forEach((s) => s.terminate()), far.kill()) };
}

async function serverSockets(): Promise<{ sockets: WebSocket[]; stop: () => void }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise((resolve) => wss.once('listening', resolve));
  const sockets: WebSocket[] = [];
  wss.on('connection', (s) => sockets.push(s));
  const far = await child(['client', String((wss.address() as AddressInfo).port)]);
  while (sockets.length < CONNECTIONS) await new Promise((r) => setTimeout(r, 10));
  return { sockets, stop: () => (wss.close(), far.kill()) };
}

/** CPU µs per frame: `frames` frames, one per connection in turn, in paced batches. */
async function measure(
  variant: Variant,
  sockets: WebSocket[],
  frames: number,
): Promise<{ user: number; kernel: number }> {
  const batches = Math.ceil(frames / CONNECTIONS);
  let i = 0;
  const before = process.cpuUsage();
  for (let b = 0; b < batches; b++) {
    for (const socket of sockets) variant.send(socket, i++);
    await new Promise((r) => setTimeout(r, BATCH_GAP_MS));
  }
  const used = process.cpuUsage(before);
  // The pacing timers cost the same in every variant; they are part of the figure.
  return { user: used.user / i, kernel: used.system / i };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: number) => {
    const at = args.indexOf(name);
    return at >= 0 ? Number(args[at + 1]) : fallback;
  };
  const frames = option('--frames', 20_000);
  const rounds = option('--rounds', 7);
  const client = await clientSockets();
  const server = await serverSockets();
  const socketsFor = (v: Variant) => (v.side === 'server' ? server.sockets : client.sockets);

  const results = variants.map(() => [] as { user: number; kernel: number }[]);
  for (let round = 0; round < rounds; round++) {
    for (const [index, variant] of variants.entries()) {
      results[index].push(await measure(variant, socketsFor(variant), frames));
    }
  }
  console.log(
    `ws-send: ${frames} frames per variant per round, ${rounds} rounds, ${CONNECTIONS} connections, Node ${process.version}`,
  );
  console.log('CPU per frame in µs, median of rounds [min-max]:');
  const show = (xs: number[]) =>
    `${median(xs).toFixed(2).padStart(6)} [${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}]`;
  console.log(`  ${'variant'.padEnd(40)} ${'user'.padEnd(20)} kernel`);
  for (const [index, variant] of variants.entries()) {
    const r = results[index];
    console.log(
      `  ${variant.name.padEnd(40)} ${show(r.map((x) => x.user)).padEnd(20)} ${show(r.map((x) => x.kernel))}`,
    );
  }
  client.stop();
  server.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
