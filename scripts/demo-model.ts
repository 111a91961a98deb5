/**
 * `npm run demo:model`: runs the demo model (a local OpenAI Realtime stand-in, no account, no
 * network) until Ctrl-C, for trying the bridge by hand:
 *
 *   npm run demo:model                    # prints its OPENAI_REALTIME_URL
 *
 * and a bridge pointed at it as docs/operations.md ("The demo model") shows.
 */
import { parseArgs } from 'node:util';
import { DemoModel } from './lib/demo-model/demo-model.js';

const USAGE = `usage: npm run demo:model -- [--port N] [--host ADDRESS]

A local stand-in for the OpenAI Realtime API (GA) that needs no account and no network. It
greets, hears the caller's speech (server VAD), reports transcripts of its length, calls the
get_store_hours tool when the bridge offers it, and answers with tones and the caller's own
words played back. Point the bridge at it with OPENAI_REALTIME_URL (any OPENAI_API_KEY).

  --port N         port to listen on (default 8090; 0 picks a free one)
  --host ADDRESS   address to listen on (default 127.0.0.1)
  --help, -h       this text`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message} (see --help)\n`);
    return 1;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const port = Number(values.port ?? 8090);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`error: --port: expected 0 to 65535, got ${values.port}\n`);
    return 1;
  }
  const model = new DemoModel({
    host: values.host,
    port,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  try {
    await model.start();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    process.stderr.write(
      code === 'EADDRINUSE'
        ? `error: port ${port} is in use; pass --port 0 for a free one\n`
        : `error: ${(error as Error).message}\n`,
    );
    return 1;
  }
  process.stdout.write(
    `demo model listening: OPENAI_REALTIME_URL=${model.url} (any OPENAI_API_KEY). Ctrl-C stops it.\n`,
  );
  await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
  await model.stop();
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`demo model crashed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
