import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// Issue 25: a source file past 300 lines holds more than one job; split it by concern.
const MAX_SOURCE_LINES = 300;
const src = fileURLToPath(new URL('../src', import.meta.url));

describe('source files', () => {
  it(`keep every TypeScript file in src/ (specs and console assets aside) to ${MAX_SOURCE_LINES} lines`, () => {
    const files = ts.sys
      .readDirectory(src, ['.ts'])
      .filter((file) => !file.endsWith('.spec.ts') && !file.includes('/console/public/'));
    expect(files.length).toBeGreaterThan(100);
    const tooLong = files
      .map((file) => ({ file, lines: readFileSync(file, 'utf8').split('\n').length - 1 }))
      .filter(({ lines }) => lines > MAX_SOURCE_LINES)
      .map(({ file, lines }) => `${file.slice(src.length + 1)}: ${lines} lines`);
    expect(tooLong).toEqual([]);
  });
});
