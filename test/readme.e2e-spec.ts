import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

// The README's code must work as shown: its TypeScript files compile against the built package
// (imported by its name, `twilio-realtime-bridge`, as another project would), and every npm
// script it mentions exists. `npm test` builds dist/ first.

const ROOT = resolve('.');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Fenced blocks of one language, in order; `quotes`: the file a `<!-- examples/x.ts -->` names. */
function blocks(language: string): Array<{ code: string; quotes?: string }> {
  const pattern = new RegExp(
    '(?:<!-- (examples/[\\w.-]+\\.ts) -->\\n)?```' + language + '\\n([\\s\\S]*?)```',
    'g',
  );
  return [...README.matchAll(pattern)].map((match) => ({ quotes: match[1], code: match[2] }));
}

describe('the README', () => {
  it('has an extension example and a main.ts that compile against the package, imports included', () => {
    const files = blocks('ts')
      .filter((block) => block.quotes === undefined)
      .map(({ code }) => {
        const name = /^\/\/ ([\w.-]+\.ts)\n/.exec(code)?.[1];
        if (!name) throw new Error(`a README ts block without a "// file.ts" first line:\n${code}`);
        return { name, code };
      });
    expect(files.map((file) => file.name).sort()).toEqual(['main.ts', 'store-hours.module.ts']);

    // Inside the package directory, so that the package's own name resolves (self-reference).
    const dir = mkdtempSync(join(ROOT, '.readme-check-'));
    try {
      const paths = files.map(({ name, code }) => {
        const path = join(dir, name);
        writeFileSync(path, code);
        return path;
      });
      const program = ts.createProgram(paths, {
        target: ts.ScriptTarget.ES2023,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        strict: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        skipLibCheck: true,
        noEmit: true,
        types: ['node'],
      });
      const problems = ts
        .getPreEmitDiagnostics(program)
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(problems).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60000);

  it('quotes excerpts of examples/ verbatim, if any (depth, and most excerpts, are in docs/)', () => {
    // Its store-hours.module.ts is examples/store-hours.module.ts whole (test/docs.spec.ts).
    for (const { quotes, code } of blocks('ts').filter((block) => block.quotes !== undefined)) {
      expect(readFileSync(join(ROOT, quotes!), 'utf8')).toContain(code);
    }
  });

  it('mentions only npm scripts that exist', () => {
    const scripts = Object.keys(
      (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: object }).scripts,
    );
    const mentioned = [...README.matchAll(/npm run ([\w:-]+)/g)].map((match) => match[1]);
    expect(mentioned.length).toBeGreaterThan(3);
    for (const script of mentioned) expect(scripts).toContain(script);
    expect(README).toContain('npm test -- ');
  });
});
