import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// Both entry points are pinned as a user gets them: the built dist/, reached through the
// package's `exports` (Node's self-reference for the values, the `types` conditions for the
// names), never src/. `npm test` builds first.
const root = fileURLToPath(new URL('..', import.meta.url));
const indexFile = `${root}src/index.ts`;
const typeChecks = `${root}test/types/realtime-tool.types.ts`;
// Never built into dist and only transpiled by the tests, so type-checked here.
// examples/host-app is an app of its own, compiled against the packed tarball by .ci/run.
const examples = ts.sys
  .readDirectory(`${root}examples`, ['.ts'])
  .filter((file) => !file.includes('/examples/host-app/'));

/** Exactly what src/index.ts exports (docs/extending.md points there): the rest is internal. */
const PUBLIC_VALUES = [
  'AZURE_TOKEN_CREDENTIAL',
  'CALL_SETTINGS_RESOLVER',
  'CALL_SETTINGS_TIMEOUT_MS',
  'CALL_TOOL_RESOLVER',
  'CallContext',
  'CallEvent',
  'ConfigValidationError',
  'MAX_SAY_CHARS',
  'RealtimeTool',
  'TwilioBridgeModule',
  'bootstrapBridge',
  'createBridgeApp',
  'loadBridgeConfig',
  'useTwilioBridge',
];
const PUBLIC_TYPES = [
  'AnyCallEvent',
  'BootstrapOptions',
  'BridgeConfig',
  'BridgeModuleOptions',
  'BridgeOptions',
  'BridgeSettings',
  'BridgeSurfaces',
  'CallDescription',
  'CallDtmfEvent',
  'CallEndedEvent',
  'CallEventName',
  'CallHandbackEvent',
  'CallInterruptedEvent',
  'CallSessionUpdate',
  'CallSettingsChoice',
  'CallSettingsResolver',
  'CallStartedEvent',
  'CallTakeoverEvent',
  'CallTakeoverRecord',
  'CallToolEvent',
  'CallToolResolver',
  'CallToolSummary',
  'CallTranscriptEvent',
  'JsonSchema',
  'ParsedEnv',
  'RealtimeToolOptions',
  'ResolverOption',
  'TokenUsage',
  'TranscriptTurn',
  'TwilioBridgeAsyncOptions',
  'TwilioBridgeOptions',
];

/** Exactly what docs/extending.md ("Testing your tools") documents of twilio-realtime-bridge/testing. */
const TESTING_VALUES = [
  'BridgeTest',
  'CapturedLogs',
  'FakeRealtimeConnection',
  'FakeRealtimeServer',
  'FakeTwilioCall',
  'FakeTwilioRest',
  'STEP_TIMEOUT_MS',
  'TEST_ACCOUNT_SID',
  'TEST_OPENAI_API_KEY',
  'TEST_TWILIO_AUTH_TOKEN',
  'TestCall',
  'startBridgeTest',
];
const TESTING_TYPES = [
  'BridgeTestOptions',
  'CallEnding',
  'CallerOptions',
  'RealtimeClientEvent',
  'RecordedRestRequest',
  'ScriptedToolCall',
  'TranscriptLine',
  'TwilioFrame',
];

type Exports = Record<string, { types: string; default: string }>;
const packageJson = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  name: string;
  exports: Exports;
};

/** The names an entry point exports at run time, imported by package name in a fresh Node. */
function runtimeExports(specifier: string): string[] {
  const script = `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m)));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, NODE_ENV: 'test' },
  });
  if (run.status !== 0) throw new Error(`import ${specifier} failed: ${run.stderr}`);
  return (JSON.parse(run.stdout.trim().split('\n').at(-1)!) as string[]).sort();
}

/** The names (types included) an entry point's declaration file exports. */
function declaredExports(subpath: '.' | './testing'): string[] {
  const file = join(root, packageJson.exports[subpath].types);
  const program = ts.createProgram([file], { noEmit: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
  return checker
    .getExportsOfModule(module)
    .map((symbol) => symbol.name)
    .sort();
}

/** One program over the public entry point and the type checks, with the repo's own settings. */
function compile(): ts.Program {
  const config = ts.getParsedCommandLineOfConfigFile(
    `${root}tsconfig.json`,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  )!;
  return ts.createProgram([indexFile, typeChecks, ...examples], {
    ...config.options,
    noEmit: true,
  });
}

function describeDiagnostic(d: ts.Diagnostic): string {
  const where = d.file
    ? `${d.file.fileName.replace(root, '')}:${d.file.getLineAndCharacterOfPosition(d.start!).line + 1}`
    : '';
  return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
}

describe('the public API', () => {
  let program: ts.Program;
  beforeAll(() => {
    program = compile();
  }, 180_000);

  it('exports exactly the documented values', () => {
    expect(runtimeExports(packageJson.name)).toEqual(PUBLIC_VALUES);
  });

  it('exports exactly the documented names, types included', () => {
    expect(declaredExports('.')).toEqual([...PUBLIC_VALUES, ...PUBLIC_TYPES].sort());
  });

  it('exports exactly the documented testing kit, values and types', () => {
    expect(runtimeExports(`${packageJson.name}/testing`)).toEqual([...TESTING_VALUES].sort());
    expect(declaredExports('./testing')).toEqual([...TESTING_VALUES, ...TESTING_TYPES].sort());
  });

  it('ships a testing kit that loads no test runner', () => {
    const dir = join(root, 'dist/testing');
    const specifiers = readdirSync(dir)
      .filter((file) => file.endsWith('.js'))
      .flatMap((file) =>
        [...readFileSync(join(dir, file), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]),
      );
    expect(specifiers.length).toBeGreaterThan(10);
    expect(specifiers.filter((specifier) => /jest|vitest|mocha/.test(specifier))).toEqual([]);
  });

  it('packs only what a user needs: dist without specs or maps, README, LICENSE', () => {
    const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(pack.status).toBe(0);
    const [{ files }] = JSON.parse(pack.stdout) as [{ files: Array<{ path: string }> }];
    const paths = files.map((file) => file.path);
    expect(paths).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']));
    expect(paths).toEqual(
      expect.arrayContaining([
        'dist/index.js',
        'dist/index.d.ts',
        'dist/testing/index.js',
        'dist/testing/index.d.ts',
        'dist/console/public/index.html',
      ]),
    );
    const others = paths.filter((path) => !['LICENSE', 'README.md', 'package.json'].includes(path));
    expect(others.filter((path) => !path.startsWith('dist/'))).toEqual([]);
    expect(others.filter((path) => /\.spec\.|\.map$|tsbuildinfo/.test(path))).toEqual([]);
  });

  // Each `@ts-expect-error` there must meet an error (an unused one is itself an error), and
  // the well-typed tools must compile: a tool handler that does not fit its schema is rejected
  // by the compiler, and CallContext's internals are out of reach.
  it('type-checks tools against their schemas, and hides CallContext internals', () => {
    const diagnostics = ts.getPreEmitDiagnostics(program, program.getSourceFile(typeChecks));
    expect(diagnostics.map(describeDiagnostic)).toEqual([]);
    const expected = ts.sys.readFile(typeChecks)!.match(/@ts-expect-error/g);
    expect(expected).toHaveLength(11);
  });

  it('compiles the examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(2);
    const diagnostics = examples.flatMap((file) =>
      ts.getPreEmitDiagnostics(program, program.getSourceFile(file)),
    );
    expect(diagnostics.map(describeDiagnostic)).toEqual([]);
  });
});
