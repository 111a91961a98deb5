/**
 * Load bench (issue 8, item 2):
 *   npm run bench:load -- --calls N --seconds S --format pcm16|g711_ulaw [--json out.json]
 *     [--service-node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"] [--service-main path/main.js]
 * `--service-main` runs another build (or bench/load/naive-bridge.ts, the naive baseline) in the
 * service's place, so that before/after ratios come from one session; `--service-node-args`
 * passes node flags to the service (it exits 0 on SIGTERM, so profiles get written). See
 * docs/performance.md.
 *
 * Three processes besides this one, so that no peer steals the event loop of another:
 * - the built service, `node dist/main.js`, on a free port (spawned);
 * - a fake OpenAI Realtime server that echoes every append back at once as assistant audio
 *   (bench/load/fake-realtime.ts, forked);
 * - a load generator playing N signed Twilio callers at real-time 20 ms pace, dialled evenly
 *   over a ramp of min(S/3, N x 20 ms) (bench/load/generator.ts, forked).
 * This process only samples /proc, shows progress, and joins the records at the end.
 *
 * Matching, so that every frame is followed exactly rather than estimated:
 * - Outbound (fake -> service -> caller) is always exact: the service forwards model audio to
 *   Twilio untouched (output is mu-law in both modes), so each echo carries a tag in its first
 *   9 bytes: (fake connection id, append number). The caller that receives it also learns which
 *   fake connection serves its call: the service's Realtime connections are otherwise
 *   indistinguishable (same URL, same key), and learning it from the data itself needs no
 *   assumption about connection order.
 * - Inbound (caller -> service -> fake), g711_ulaw: the service appends the Twilio payload byte
 *   for byte, so each frame carries (call index, frame number) and is matched exactly, including
 *   reordering and duplicates, and the call <-> connection association is checked both ways.
 * - Inbound, pcm16: the payload is decoded and resampled, so no byte tag survives. The k-th
 *   append on a call's connection is taken to be the call's k-th frame (1:1 frame mapping), and
 *   that order is verified: frame k is a 1 kHz tone at level k % 8, and the fake measures each
 *   append's level; any mismatch (a dropped, duplicated or misrouted frame) is reported, since it
 *   would shift later latencies by whole frames.
 *
 * Latency per direction = receive time at the far peer - send time at the near peer, all on one
 * clock (`process.hrtime.bigint()`, CLOCK_MONOTONIC, the same in every process). A frame sent but
 * not received after the drain grace period is lost. Percentiles are nearest-rank over the frames
 * sent in the steady window (every call up, until the generator stops sending), and over the
 * whole run.
 *
 * Service CPU is utime + stime from /proc/PID/stat at the window's start and end, per call-second
 * (with read/write system calls from /proc/PID/io and event-loop wake-ups, which are exact counts);
 * RSS is VmRSS before any call (idle), at both ends of the window, and VmHWM (peak). The
 * generator watches its own pacing: each frame's lateness against its slot on an absolute 20 ms
 * grid; a p99 over 5 ms (the latency target) is flagged "generator overloaded", since latency
 * figures then measure the generator.
 *
 * Exits 0 when the run completed (targets met or not), 1 when the harness or service failed,
 * 2 on bad arguments, 130 on Ctrl-C. Every child is stopped on every path.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyse, LATENESS_LIMIT_MS } from './load/analysis.js';
import { freePort, killAllNow, ServiceProcess, ToolProcess } from './load/processes.js';
import { clockTicks, sampleProcess, trySampleProcess, type ProcSample } from './load/proc.js';
import {
  FRAME_MS,
  type FakeProgress,
  type FakeResult,
  type FromFake,
  type FromGenerator,
  type GeneratorResult,
  type InputFormat,
  type Progress,
  type ToFake,
  type ToGenerator,
} from './load/protocol.js';
import { formatReport, type LoadReport } from './load/report.js';
import { flagValues, optionsOrExit, UsageError } from './lib/cli.js';

interface Options {
  calls: number;
  seconds: number;
  format: InputFormat;
  json?: string;
  /** The service's INPUT_AUDIO_CHUNK_MS (0: an append per frame, the default). */
  inputChunkMs: number;
  /** The fake's answer pacing: 0, a delta the moment a frame arrives; else bursts (see fake). */
  echoBurstMs: number;
  /** Extra `node` flags for the service, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof". */
  serviceNodeArgs: string[];
  /** Another build's main.js (a baseline, for before/after ratios in one session). */
  serviceMain?: string;
  /** RECORDING=on in the service, recordings in a temporary RECORDINGS_DIR (issue 27). */
  recording: boolean;
}

const USAGE =
  'usage: npm run bench:load -- --calls N --seconds S --format pcm16|g711_ulaw [--json out.json]\n' +
  '         [--input-chunk-ms 0..200] [--echo-burst-ms 0..1000] [--service-node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"]\n' +
  '         [--service-main other/dist/main.js] [--recording on|off]';

const UP_TIMEOUT_MS = 10_000;
const DRAIN_MS = 2000;
const STARTUP_TIMEOUT_MS = 30_000;
const IDLE_SETTLE_MS = 1000;
/** IPC answers take well under a millisecond; the line is drawn after this. */
const POLL_ANSWER_MS = 50;
const HANG_UP_CHECK_MS = 5000;
const MAX_RECORDED_FRAMES = 50_000_000;
/** Beyond the planned run time, what the ramp-down, drain and hang-ups may take. */
const RUN_SLACK_MS = 30_000;

/** Variables the service reads: none leaks in from the caller's shell. */
const SERVICE_ENV_KEYS = [
  'PORT', 'PUBLIC_URL', 'TRUST_PROXY', 'LOG_LEVEL', 'OPENAI_API_KEY', 'OPENAI_REALTIME_URL',
  'OPENAI_REALTIME_MODEL', 'OPENAI_VOICE', 'AI_INSTRUCTIONS', 'AI_GREETING', 'TURN_DETECTION',
  'AUDIO_INPUT_FORMAT', 'INPUT_TRANSCRIPTION_MODEL', 'OPENAI_CONNECT_TIMEOUT_MS', 'TWILIO_AUTH_TOKEN',
  'TWILIO_ACCOUNT_SID', 'TWILIO_VALIDATE_SIGNATURES', 'STREAM_TOKEN_TTL_S', 'MAX_CONCURRENT_CALLS',
  'MAX_CALL_DURATION_S', 'MEDIA_IDLE_TIMEOUT_S', 'SHUTDOWN_DRAIN_S', 'INPUT_AUDIO_CHUNK_MS',
  'DATA_DIR', 'RECORDING', 'RECORDINGS_DIR', 'RECORDINGS_S3_BUCKET', 'RECORDING_NOTICE',
  'HISTORY', 'DATABASE_URL', 'PRICE_TABLE',
]; // prettier-ignore

const KNOWN_FLAGS = [
  'calls',
  'seconds',
  'format',
  'json',
  'input-chunk-ms',
  'echo-burst-ms',
  'service-node-args',
  'service-main',
  'recording',
];

function parseOptions(argv: string[]): Options {
  const values = flagValues(argv, KNOWN_FLAGS, USAGE);
  const number = (name: string, min: number, max: number): number => {
    const value = Number(values.get(name));
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new UsageError(`--${name} must be a number from ${min} to ${max}\n${USAGE}`);
    }
    return value;
  };
  const recording = values.get('recording') ?? 'off';
  if (recording !== 'on' && recording !== 'off') {
    throw new UsageError(`--recording must be on or off\n${USAGE}`);
  }
  const format = values.get('format');
  if (format !== 'pcm16' && format !== 'g711_ulaw') {
    throw new UsageError(`--format must be pcm16 or g711_ulaw\n${USAGE}`);
  }
  const options: Options = {
    calls: Math.floor(number('calls', 1, 10_000)),
    seconds: number('seconds', 3, 3600),
    format,
    json: values.get('json'),
    inputChunkMs: values.has('input-chunk-ms') ? number('input-chunk-ms', 0, 200) : 0,
    echoBurstMs: values.has('echo-burst-ms') ? number('echo-burst-ms', 0, 1000) : 0,
    serviceNodeArgs: (values.get('service-node-args') ?? '').split(/\s+/).filter(Boolean),
    serviceMain: values.get('service-main'),
    recording: recording === 'on',
  };
  // Per-frame records take ~40 bytes a frame across the tools; keep them to a few GB at most.
  if ((options.calls * options.seconds * 1000) / FRAME_MS > MAX_RECORDED_FRAMES) {
    throw new UsageError(`--calls x --seconds is too large: at most ${MAX_RECORDED_FRAMES} frames`);
  }
  return options;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const toolPath = (name: string) => fileURLToPath(new URL(`./load/${name}.js`, import.meta.url));
const kbToMb = (kb: number) => kb / 1024;

interface WindowSamples {
  service: ProcSample;
  generator?: ProcSample;
  fake?: ProcSample;
  callsUp: number;
}

/**
 * Shows what is going on, about once a second, on one rewritten stderr line. Both tools are
 * polled at the same moment, so "sent" and "appended" (or "echoed" and "received") differ only
 * by what is in flight.
 */
class ProgressLine {
  generator?: Progress;
  fake?: FakeProgress;
  private lastService?: ProcSample;
  private timer?: NodeJS.Timeout;
  private ticks = 0;
  private stopped = false;
  private readonly tty = process.stderr.isTTY;

  constructor(
    private readonly options: Options,
    private readonly servicePid: number,
    private readonly poll: () => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.poll();
      setTimeout(() => this.render(), POLL_ANSWER_MS);
    }, 1000);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    if (this.tty && this.ticks > 0) process.stderr.write('\n');
  }

  private render(): void {
    this.ticks++;
    const service = trySampleProcess(this.servicePid);
    const cpu =
      service && this.lastService
        ? ((service.cpuMs - this.lastService.cpuMs) / (service.atMs - this.lastService.atMs)) * 100
        : NaN;
    this.lastService = service;
    const g = this.generator;
    const f = this.fake;
    const line =
      `[${((g?.elapsedMs ?? 0) / 1000).toFixed(0).padStart(4)}s/${this.options.seconds}s] ` +
      `calls up ${g?.callsUp ?? 0}/${this.options.calls} failed ${g?.callsFailed ?? 0} | ` +
      `in: sent ${g?.framesSent ?? 0} appended ${f?.frames ?? 0} | ` +
      `out: echoed ${f?.echoes ?? 0} received ${g?.echoesReceived ?? 0} | ` +
      `service ${Number.isFinite(cpu) ? cpu.toFixed(0) : '-'}% CPU ` +
      `${service ? kbToMb(service.rssKb).toFixed(0) : '-'} MB`;
    if (this.tty) process.stderr.write(`\r${line}\x1b[K`);
    else if (this.ticks % 5 === 0) process.stderr.write(`${line}\n`);
  }
}

/** One run: start everything, drive it, collect, and turn the records into a report. */
class LoadRun {
  private fake?: ToolProcess<ToFake, FromFake>;
  private generator?: ToolProcess<ToGenerator, FromGenerator>;
  private service?: ServiceProcess;
  private progress?: ProgressLine;
  private steadyStart?: WindowSamples;
  private steadyEnd?: WindowSamples;
  private openedOnTimeout = false;
  private activeCallsAtSteadyStart: number | null = null;
  private readonly clockBase = process.hrtime.bigint().toString();
  private readonly authToken = randomBytes(16).toString('hex');
  private readonly accountSid = `AC${randomBytes(16).toString('hex')}`;
  private readonly rampMs: number;
  private readonly maxFrames: number;
  private serviceMain?: string;
  private recordingsDir?: string;
  private readonly dataDir = mkdtempSync(join(tmpdir(), 'bench-data-'));

  constructor(private readonly options: Options) {
    this.rampMs = Math.min((options.seconds * 1000) / 3, options.calls * FRAME_MS);
    this.maxFrames = Math.ceil((options.seconds * 1000) / FRAME_MS) + 10;
  }

  async run(): Promise<LoadReport> {
    const fakePort = await this.startFake();
    const service = await this.startService(fakePort);
    await sleep(IDLE_SETTLE_MS);
    const idle = sampleProcess(this.pidOf(service.pid));
    const generatorResult = await this.drive(service);
    const fakeResult = await this.collectFake();
    const final = sampleProcess(this.pidOf(service.pid));
    const activeAfter = await this.activeCallsAfterHangUp(service);
    return this.report(idle, final, generatorResult, fakeResult, activeAfter);
  }

  async cleanup(): Promise<void> {
    this.progress?.stop();
    const [, , service] = await Promise.allSettled([
      this.generator?.stop(),
      this.fake?.stop(),
      this.service?.stop(),
    ]);
    if (this.recordingsDir) rmSync(this.recordingsDir, { recursive: true, force: true });
    rmSync(this.dataDir, { recursive: true, force: true });
    // A profile or heap snapshot is written only on a clean exit.
    if (this.options.serviceNodeArgs.length > 0 && service.status === 'fulfilled') {
      console.error(`service exited (${service.value ?? 'not started'})`);
    }
  }

  private pidOf(pid: number | undefined): number {
    if (pid === undefined) throw new Error('child process has no pid');
    return pid;
  }

  private async startFake(): Promise<number> {
    const fake = new ToolProcess<ToFake, FromFake>(
      'fake Realtime server',
      toolPath('fake-realtime'),
    );
    this.fake = fake;
    fake.onMessage((message) => {
      if (message.kind === 'progress' && this.progress) this.progress.fake = message.progress;
    });
    const listening = fake.next('listening', 10_000);
    fake.send({
      kind: 'run',
      config: {
        clockBase: this.clockBase,
        format: this.options.format,
        maxFrames: this.maxFrames,
        echoBurstMs: this.options.echoBurstMs,
      },
    });
    return (await listening).port;
  }

  private async startService(fakePort: number): Promise<ServiceProcess> {
    const mainJs = this.options.serviceMain
      ? resolve(this.options.serviceMain)
      : fileURLToPath(new URL('../../dist/main.js', import.meta.url));
    if (!existsSync(mainJs)) throw new Error(`${mainJs} not found: run npm run build first`);
    this.serviceMain = mainJs;
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of SERVICE_ENV_KEYS) delete env[key];
    Object.assign(env, {
      PORT: String(port),
      OPENAI_API_KEY: 'sk-load-bench',
      OPENAI_REALTIME_URL: `ws://127.0.0.1:${fakePort}/v1/realtime`,
      TWILIO_AUTH_TOKEN: this.authToken,
      AUDIO_INPUT_FORMAT: this.options.format,
      INPUT_AUDIO_CHUNK_MS: String(this.options.inputChunkMs),
      MAX_CONCURRENT_CALLS: '10000',
      // The service's own limit must not end the calls before the bench does.
      MAX_CALL_DURATION_S: String(Math.max(3600, Math.ceil(this.options.seconds) + 600)),
      LOG_LEVEL: 'warn',
      TURN_DETECTION: 'server_vad',
      // Calls are all over when it is stopped; do not let shutdown wait on the default 30 s.
      SHUTDOWN_DRAIN_S: '1',
      NO_COLOR: '1',
      // The default history (its embedded database) in a folder of the bench's, not the cwd.
      DATA_DIR: this.dataDir,
    });
    if (this.options.recording) {
      this.recordingsDir = mkdtempSync(join(tmpdir(), 'bench-recordings-'));
      Object.assign(env, { RECORDING: 'on', RECORDINGS_DIR: this.recordingsDir });
    }
    const service = new ServiceProcess(
      mainJs,
      env,
      `http://127.0.0.1:${port}`,
      this.options.serviceNodeArgs,
    );
    this.service = service;
    await service.waitHealthy(STARTUP_TIMEOUT_MS);
    return service;
  }

  /** Runs the callers; resolves with their records, or fails if anything dies or hangs. */
  private async drive(service: ServiceProcess): Promise<GeneratorResult> {
    const generator = new ToolProcess<ToGenerator, FromGenerator>(
      'load generator',
      toolPath('generator'),
    );
    this.generator = generator;
    this.progress = new ProgressLine(this.options, this.pidOf(service.pid), () => {
      generator.send({ kind: 'poll' });
      this.fake?.send({ kind: 'poll' });
    });
    generator.onMessage((message) => this.onGeneratorMessage(message));
    const result = generator.next('result', this.runTimeoutMs());
    const fatal = generator.next('fatal', this.runTimeoutMs() + 1000).then((message) => {
      throw new Error(`load generator failed: ${message.message}`);
    });
    const serviceDied = service.exited.then((how) => {
      throw new Error(`service exited during the run (${how})${service.logTail()}`);
    });
    generator.send({
      kind: 'run',
      config: {
        clockBase: this.clockBase,
        serviceBaseUrl: service.baseUrl,
        authToken: this.authToken,
        accountSid: this.accountSid,
        calls: this.options.calls,
        seconds: this.options.seconds,
        format: this.options.format,
        rampMs: this.rampMs,
        upTimeoutMs: UP_TIMEOUT_MS,
        drainMs: DRAIN_MS,
        maxFrames: this.maxFrames,
      },
    });
    this.progress.start();
    try {
      return (await Promise.race([result, fatal, serviceDied])).result;
    } finally {
      this.progress.stop();
    }
  }

  private runTimeoutMs(): number {
    return this.rampMs + UP_TIMEOUT_MS + this.options.seconds * 1000 + DRAIN_MS + RUN_SLACK_MS;
  }

  private onGeneratorMessage(message: FromGenerator): void {
    switch (message.kind) {
      case 'progress':
        if (this.progress) this.progress.generator = message.progress;
        return;
      case 'steady-start':
        this.steadyStart = this.sampleWindow(message.callsUp);
        this.openedOnTimeout = message.timedOut;
        this.service
          ?.activeCalls()
          .then((active) => (this.activeCallsAtSteadyStart = active))
          .catch(() => undefined);
        return;
      case 'steady-end':
        this.steadyEnd = this.sampleWindow(message.callsUp);
        return;
      case 'result':
      case 'fatal':
        return; // awaited in drive()
    }
  }

  private sampleWindow(callsUp: number): WindowSamples {
    return {
      service: sampleProcess(this.pidOf(this.service?.pid)),
      generator: trySampleProcess(this.generator?.pid),
      fake: trySampleProcess(this.fake?.pid),
      callsUp,
    };
  }

  private async collectFake(): Promise<FakeResult> {
    const fake = this.fake;
    if (!fake) throw new Error('fake Realtime server not started');
    const result = fake.next('result', 15_000);
    fake.send({ kind: 'collect' });
    return (await result).result;
  }

  /** A service that frees its calls reports 0 once every caller has hung up. */
  private async activeCallsAfterHangUp(service: ServiceProcess): Promise<number | null> {
    const deadline = Date.now() + HANG_UP_CHECK_MS;
    let active = await service.activeCalls();
    while (active !== 0 && Date.now() < deadline) {
      await sleep(100);
      active = await service.activeCalls();
    }
    return active;
  }

  private report(
    idle: ProcSample,
    final: ProcSample,
    generator: GeneratorResult,
    fake: FakeResult,
    activeCallsAfterHangUp: number | null,
  ): LoadReport {
    const start = this.steadyStart;
    const end = this.steadyEnd;
    if (!start || !end) throw new Error('the generator never reported its steady window');
    const windowMs = end.service.atMs - start.service.atMs;
    const callsUp = start.callsUp;
    const serviceCpuMs = end.service.cpuMs - start.service.cpuMs;
    const toolCpu = (a?: ProcSample, b?: ProcSample) =>
      a && b && windowMs > 0 ? ((b.cpuMs - a.cpuMs) / windowMs) * 100 : NaN;
    const analysis = analyse(generator, fake, this.options.format);
    const perCallSecond = (count: number) =>
      callsUp > 0 && windowMs > 0 ? count / (callsUp * (windowMs / 1000)) : NaN;
    const idleMb = kbToMb(idle.rssKb);
    return {
      config: {
        calls: this.options.calls,
        seconds: this.options.seconds,
        format: this.options.format,
        inputChunkMs: this.options.inputChunkMs,
        echoBurstMs: this.options.echoBurstMs,
        rampMs: this.rampMs,
        drainMs: DRAIN_MS,
        serviceMain: this.serviceMain ?? '',
        serviceNodeArgs: this.options.serviceNodeArgs,
        recording: this.options.recording,
      },
      host: { cpus: cpus().length, node: process.version, clockTicksPerSecond: clockTicks() },
      analysis,
      window: {
        seconds: windowMs / 1000,
        callsUpAtStart: callsUp,
        callsUpAtEnd: end.callsUp,
        openedOnTimeout: this.openedOnTimeout,
      },
      service: {
        cpuMs: serviceCpuMs,
        sysCpuMs: end.service.sysMs - start.service.sysMs,
        readCallsPerCallSecond: perCallSecond(end.service.readCalls - start.service.readCalls),
        writeCallsPerCallSecond: perCallSecond(end.service.writeCalls - start.service.writeCalls),
        wakeupsPerCallSecond: perCallSecond(end.service.wakeups - start.service.wakeups),
        cpuPercentOfOneCore: windowMs > 0 ? (serviceCpuMs / windowMs) * 100 : NaN,
        cpuMsPerCallSecond:
          callsUp > 0 && windowMs > 0 ? serviceCpuMs / (callsUp * (windowMs / 1000)) : NaN,
        rssIdleMb: idleMb,
        rssSteadyStartMb: kbToMb(start.service.rssKb),
        rssSteadyEndMb: kbToMb(end.service.rssKb),
        rssPeakMb: kbToMb(final.hwmKb),
        rssPerCallPeakMb: callsUp > 0 ? (kbToMb(final.hwmKb) - idleMb) / callsUp : NaN,
        rssPerCallSteadyMb: callsUp > 0 ? (kbToMb(end.service.rssKb) - idleMb) / callsUp : NaN,
        rssGrowthInWindowMb: kbToMb(end.service.rssKb - start.service.rssKb),
        activeCallsAtSteadyStart: this.activeCallsAtSteadyStart,
        activeCallsAfterHangUp,
        logLines: this.service?.logLines ?? 0,
        lastLogLines: [...(this.service?.lastLogLines ?? [])],
      },
      tools: {
        generatorCpuPercent: toolCpu(start.generator, end.generator),
        fakeCpuPercent: toolCpu(start.fake, end.fake),
        generatorLoopDelayP99Ms: generator.loopDelayP99Ms,
        fakeLoopDelayP99Ms: fake.loopDelayP99Ms,
        fakeOverloaded: fake.loopDelayP99Ms > LATENESS_LIMIT_MS,
      },
    };
  }
}

async function main(): Promise<void> {
  const options = optionsOrExit(parseOptions);
  const run = new LoadRun(options);
  // Children must never outlive the bench, however it ends.
  process.on('exit', killAllNow);
  let interrupted = false;
  const interrupt = (signal: NodeJS.Signals) => {
    interrupted = true;
    console.error(`\n${signal}: stopping the service and the load tools`);
    run
      .cleanup()
      .catch(() => undefined)
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  try {
    const report = await run.run();
    await run.cleanup();
    console.log(formatReport(report));
    if (options.json) {
      writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
      console.log(`\nWrote ${options.json}`);
    }
    if (report.analysis.calls.cameUp === 0) {
      console.error(
        '\nNo call came up: the service is not bridging calls, so nothing was measured.',
      );
      process.exitCode = 1;
    }
  } catch (error) {
    if (interrupted) return; // the children were stopped on purpose
    console.error(`\nload bench failed: ${error instanceof Error ? error.message : String(error)}`);
    await run.cleanup();
    process.exitCode = 1;
  }
}

await main();
