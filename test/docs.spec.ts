import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

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

/** Markdown files an operator reads: the README and everything in docs/. */
const MARKDOWN = [
  'README.md',
  ...readdirSync(new URL('../docs', import.meta.url))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors a file's headings make (a repeated heading gets -1, -2 ... as on GitHub). */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of withoutCode(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count ? `${base}-${count}` : base);
  }
  return result;
}

/** The text outside fenced code blocks, where a `[x](y)` is code, not a link. */
function withoutCode(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

/** Relative link targets in a file: `[text](target)` and images, web and mail links left out. */
function relativeLinks(markdown: string): string[] {
  return [...withoutCode(markdown).matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)]
    .map((match) => match[1])
    .filter((target) => !/^[a-z][a-z+.-]*:/i.test(target));
}

describe('links in the README and docs/', () => {
  it.each(MARKDOWN)('every relative link in %s resolves, anchors included', (file) => {
    const broken = relativeLinks(read(file)).filter((target) => {
      const [path, anchor] = target.split('#', 2);
      const resolved = path ? join(dirname(file), path) : file;
      if (!existsSync(new URL(`../${resolved}`, import.meta.url))) return true;
      return (
        anchor !== undefined && resolved.endsWith('.md') && !anchors(read(resolved)).has(anchor)
      );
    });
    expect(broken).toEqual([]);
  });

  it('finds the links it checks', () => {
    expect(relativeLinks(read('README.md')).length).toBeGreaterThan(5);
    expect(relativeLinks('[a](docs/x.md) ![b](y.png) [c](https://e.com) `[d](e)`')).toEqual([
      'docs/x.md',
      'y.png',
      'e',
    ]);
  });
});

describe('the README', () => {
  // Depth belongs in docs/: the README is the first screen a newcomer reads.
  it('stays under 220 lines', () => {
    expect(read('README.md').split('\n').length).toBeLessThan(220);
  });

  // docs/extending.md shows the test of this module (examples/store-hours.spec.ts): copied
  // together, the README's module and that test pass, as they do in this repository.
  it('shows examples/store-hours.module.ts whole as its store-hours.module.ts', () => {
    const shown = /```ts\n\/\/ store-hours\.module\.ts\n([\s\S]*?)```/.exec(read('README.md'));
    expect(shown?.[1]).toBe(read('examples/store-hours.module.ts'));
  });
});
