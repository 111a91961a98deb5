import { readFileSync } from 'node:fs';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

/** The ```ts blocks that docs/extending.md says come from a file: `<!-- examples/x.ts -->`. */
function quotedBlocks(markdown: string): Array<{ file: string; code: string }> {
  const pattern = /<!-- (examples\/[\w.-]+\.ts) -->\n```ts\n([\s\S]*?)```/g;
  return [...markdown.matchAll(pattern)].map(([, file, code]) => ({ file, code }));
}

describe('docs/extending.md', () => {
  const blocks = quotedBlocks(read('docs/extending.md'));

  it('quotes code from examples/', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });

  it.each(blocks.map((block, n) => [n + 1, block.file, block.code]))(
    'block %i is still verbatim in %s (which the tests compile and run)',
    (_n, file, code) => {
      expect(read(file)).toContain(code);
    },
  );
});
