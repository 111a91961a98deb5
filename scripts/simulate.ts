/**
 * A local call simulator (issue 7): plays Twilio against a running bridge, so the whole call path
 * can be tried with no phone and no tunnel. See USAGE below, and README "Test without a phone".
 *
 *   npm run simulate -- [--url http://localhost:8080] [--audio caller.wav] [--out reply.wav]
 *
 * The logic lives in scripts/lib/ (simulation.ts drives one call); this file only reads options.
 *
 * samples/caller.wav (8 kHz mono mu-law, ~29 KB) was made once, with espeak-ng 1.51 and sox 14.4:
 *   espeak-ng -v en-us -s 150 -w /tmp/caller-22k.wav \
 *     "Hello, I would like to know your opening hours today."
 *   sox /tmp/caller-22k.wav -D -r 8000 -c 1 -e mu-law samples/caller.wav norm -3
 * Neither tool is needed to build, test or run: the file is committed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parseArgs, parseEnv } from 'node:util';
import { defaultSamplePath } from './lib/caller-audio.js';
import { startDemo, type DemoSetup } from './lib/demo-bridge.js';
import { Simulation, type SimulationOptions } from './lib/simulation.js';

const USAGE = `usage: npm run simulate -- [options]

Calls a running bridge the way Twilio does: the signed /api/twiml webhook, the signed media
stream, caller audio at real-time pace, marks echoed after playback and clear honoured as
Twilio's player does. Writes what the caller heard to a WAV. No phone, tunnel or audio
hardware needed.

  --demo              no bridge needed: start one here, against the demo model (a local
                      OpenAI Realtime stand-in; no account, no network), and call it
  --url URL           the bridge (default http://localhost:PORT, PORT from the environment
                      or ./.env, else 8080)
  --audio FILE        caller audio: a WAV of any common rate, PCM 8/16/24/32-bit, float or
                      mu-law, mono or stereo (default samples/caller.wav)
  --out FILE          what the caller heard: 8 kHz 16-bit mono WAV, sample 0 = stream start,
                      silence where nothing played (default .simulate/reply.wav)
  --tail SECONDS      silence sent after the audio so the assistant can answer (default 8,
                      4 with --demo);
                      the line stays open up to 30 s more while the assistant is still talking
  --auth-token TOKEN  the bridge's TWILIO_AUTH_TOKEN (default TWILIO_AUTH_TOKEN from the
                      environment or ./.env; not needed if TWILIO_VALIDATE_SIGNATURES=false)
  --api-token TOKEN   the bridge's API_TOKEN, to print transcripts (default API_TOKEN)
  --public-url URL    the bridge's PUBLIC_URL: Twilio signs the URL it requested (default
                      PUBLIC_URL from the environment or ./.env, when --url is not given)
  --stream-url URL    open the media stream here instead of the TwiML's <Stream url>, e.g.
                      ws://localhost:8080/media-stream to bypass a tunnel (still signed for
                      the TwiML's URL, as Twilio would sign it)
  --account-sid SID   start.accountSid (default TWILIO_ACCOUNT_SID, else a made-up AC...)
  --from NUMBER       the caller's number (default +15550100001)
  --to NUMBER         the number called (default +15550100002)
  --mic               talk yourself instead of --audio (needs rec from sox, or arecord);
                      Ctrl-C hangs up
  --speaker           hear the assistant live (needs play from sox, or aplay)
  --verbose, -v       also print the TwiML and the bridge's other call events
  --help, -h          this text

Status (stderr): elapsed, caller audio sent, assistant audio received, first audio (ms from
stream start to the first assistant audio), reply (ms from the end of the caller's speech to
the first assistant audio after it), marks echoed/received, barge-ins (clears).
Exit status: 0 when the call ran; 1 when it could not be placed, the bridge refused it or
ended it as failed (e.g. OpenAI unreachable), and the reason is the last line on stderr.`;

const OPTIONS = {
  demo: { type: 'boolean' },
  url: { type: 'string' },
  audio: { type: 'string' },
  out: { type: 'string' },
  tail: { type: 'string' },
  'auth-token': { type: 'string' },
  'api-token': { type: 'string' },
  'public-url': { type: 'string' },
  'stream-url': { type: 'string' },
  'account-sid': { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  mic: { type: 'boolean' },
  speaker: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

/** The bridge's own .env (npm runs scripts in the package root), so a local bridge needs no flags. */
function dotEnv(): Record<string, string | undefined> {
  const path = join(process.cwd(), '.env');
  if (!existsSync(path)) return {};
  return parseEnv(readFileSync(path, 'utf8'));
}

function httpUrl(value: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag}: not a URL: ${value}`);
  }
  if (!['http:', 'https:'].includes(url.protocol)) {
    throw new UsageError(`${flag}: expected an http(s) URL, got ${value}`);
  }
  return value.replace(/\/+$/, '');
}

function wsUrl(value: string): string {
  if (!/^wss?:\/\/[^/]+/.test(value)) {
    throw new UsageError(`--stream-url: expected a ws:// or wss:// URL, got ${value}`);
  }
  return value;
}

function seconds(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 3600) {
    throw new UsageError(`${flag}: expected seconds from 0 to 3600, got ${value}`);
  }
  return parsed;
}

/** npm runs scripts in the package root; relative paths mean the directory the user typed in. */
function userPath(path: string): string {
  return isAbsolute(path) ? path : resolve(process.env.INIT_CWD ?? process.cwd(), path);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value?.trim() ? value.trim() : undefined;
}

/** Where output goes unless --out says otherwise: gitignored, in the package root. */
const DEFAULT_OUT = join(process.cwd(), '.simulate', 'reply.wav');

/** Flags that name a bridge of your own, which --demo replaces. */
const BRIDGE_FLAGS = ['url', 'auth-token', 'api-token', 'public-url', 'stream-url'] as const;

type Parsed = { demo: boolean; options: SimulationOptions };

function parseOptions(argv: string[]): Parsed | 'help' {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values = parsed.values;
  if (values.help) return 'help';
  if (values.mic && values.audio) throw new UsageError('--mic and --audio exclude each other');
  const demo = values.demo ?? false;
  const clash = demo ? BRIDGE_FLAGS.find((flag) => values[flag] !== undefined) : undefined;
  if (clash) throw new UsageError(`--demo starts its own bridge: drop --${clash}`);

  const file = dotEnv();
  const setting = (name: string) => nonEmpty(process.env[name]) ?? nonEmpty(file[name]);
  const url = values.url
    ? httpUrl(values.url, '--url')
    : `http://localhost:${setting('PORT') ?? '8080'}`;
  // PUBLIC_URL describes the local bridge that .env configures; for --url elsewhere, say it.
  const publicUrl = values['public-url'] ?? (values.url ? undefined : setting('PUBLIC_URL'));

  const options: SimulationOptions = {
    url,
    publicUrl: publicUrl ? httpUrl(publicUrl, '--public-url') : undefined,
    streamUrl: values['stream-url'] ? wsUrl(values['stream-url']) : undefined,
    authToken: nonEmpty(values['auth-token']) ?? setting('TWILIO_AUTH_TOKEN'),
    apiToken: nonEmpty(values['api-token']) ?? setting('API_TOKEN'),
    accountSid: values['account-sid'] ?? setting('TWILIO_ACCOUNT_SID') ?? `AC${'0'.repeat(31)}1`,
    from: values.from ?? '+15550100001',
    to: values.to ?? '+15550100002',
    input: values.mic
      ? { kind: 'mic' }
      : { kind: 'file', path: values.audio ? userPath(values.audio) : defaultSamplePath() },
    speaker: values.speaker ?? false,
    outPath: values.out ? userPath(values.out) : DEFAULT_OUT,
    tailMs: seconds(values.tail, demo ? 4 : 8, '--tail') * 1000,
    maxReplyWaitMs: 30_000,
    verbose: values.verbose ?? false,
  };
  return { demo, options };
}

async function main(): Promise<number> {
  let parsed: Parsed | 'help';
  try {
    parsed = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`error: ${error.message} (see --help)\n`);
    return 1;
  }
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!parsed.demo) return call(parsed.options);
  const demo: DemoSetup = await startDemo((line) => process.stderr.write(`${line}\n`));
  try {
    return await call({
      ...parsed.options,
      url: demo.url,
      publicUrl: undefined,
      authToken: demo.authToken,
      apiToken: demo.apiToken,
    });
  } finally {
    await demo.close();
  }
}

async function call(options: SimulationOptions): Promise<number> {
  const simulation = new Simulation(options, process.stderr);
  let interrupts = 0;
  process.on('SIGINT', () => {
    // First Ctrl-C hangs up cleanly (stop, close, WAV written); a second one does not wait.
    if (++interrupts > 1 || !simulation.inCall) process.exit(130);
    simulation.hangUp('you hung up (Ctrl-C)');
  });
  const result = await simulation.run();
  // The last line says why, whatever was printed before it.
  if (result.exitCode !== 0) process.stderr.write(`error: ${result.endReason}\n`);
  return result.exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`simulator crashed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
