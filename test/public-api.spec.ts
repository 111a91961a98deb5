import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import * as bridge from 'twilio-realtime-bridge';

const root = fileURLToPath(new URL('..', import.meta.url));
const indexFile = `${root}src/index.ts`;
const typeChecks = `${root}test/types/realtime-tool.types.ts`;
// Never built into dist and only transpiled by the tests, so type-checked here.
const examples = ts.sys.readDirectory(`${root}examples`, ['.ts']);

/** Exactly what README's "Extending the bridge" documents: anything else stays internal. */
const PUBLIC_VALUES = [
  'AZURE_TOKEN_CREDENTIAL',
  'CALL_SETTINGS_RESOLVER',
  'CALL_SETTINGS_TIMEOUT_MS',
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
  'BridgeOptions',
  'BridgeSettings',
  'CallDescription',
  'CallDtmfEvent',
  'CallEndedEvent',
  'CallEventName',
  'CallInterruptedEvent',
  'CallSessionUpdate',
  'CallSettingsChoice',
  'CallSettingsResolver',
  'CallStartedEvent',
  'CallToolEvent',
  'CallTranscriptEvent',
  'JsonSchema',
  'LoadConfigOptions',
  'ParsedEnv',
  'RealtimeToolOptions',
  'TokenUsage',
  'TranscriptTurn',
  'TwilioBridgeAsyncOptions',
  'TwilioBridgeOptions',
];

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
    expect(Object.keys(bridge).sort()).toEqual(PUBLIC_VALUES);
  });

  it('exports exactly the documented names, types included', () => {
    const checker = program.getTypeChecker();
    const index = checker.getSymbolAtLocation(program.getSourceFile(indexFile)!)!;
    const names = checker.getExportsOfModule(index).map((symbol) => symbol.name);
    expect(names.sort()).toEqual([...PUBLIC_VALUES, ...PUBLIC_TYPES].sort());
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
