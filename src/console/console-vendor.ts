import { createRequire } from 'node:module';
import { join, sep } from 'node:path';

/**
 * The front end's libraries, vendored from node_modules: the build copies them next to the
 * console's own files (scripts/copy-console-assets.mjs reads this table from dist), so the page
 * loads nothing from any other origin. Preact's hooks import the bare specifier "preact", which a
 * browser resolves only through an import map (an inline script, which our CSP forbids), so it is
 * rewritten to the vendored file's relative path.
 */
export interface VendorFile {
  /** Name under /console/assets/vendor/. */
  name: string;
  /** The npm package, and the ES module file inside it. */
  pkg: string;
  file: string;
}

export const VENDOR_FILES: readonly VendorFile[] = [
  { name: 'preact.mjs', pkg: 'preact', file: 'dist/preact.mjs' },
  { name: 'hooks.mjs', pkg: 'preact', file: 'hooks/dist/hooks.mjs' },
  { name: 'htm.mjs', pkg: 'htm', file: 'dist/htm.mjs' },
];

/** Where a vendored file is in node_modules (found from `from`, a file of this project). */
export function vendorSourcePath(vendor: VendorFile, from: string): string {
  // Not every package exports its package.json, so find its folder from its resolved entry.
  const entry = createRequire(from).resolve(vendor.pkg);
  const marker = `${sep}node_modules${sep}${vendor.pkg}${sep}`;
  const at = entry.lastIndexOf(marker);
  if (at < 0) throw new Error(`cannot locate the ${vendor.pkg} package (resolved ${entry})`);
  return join(entry.slice(0, at + marker.length), vendor.file);
}

/** Rewrites bare imports of vendored packages to their files; throws if one is left. */
export function rewriteVendorImports(source: string, file: string): string {
  const rewritten = source.replace(/\bfrom\s*(["'])preact\1/g, 'from"./preact.mjs"');
  const bare = /\b(?:from|import)\s*["'](?![./])[^"']+["']/.exec(rewritten);
  if (bare) throw new Error(`${file}: unresolved bare import ${bare[0]}`);
  return rewritten;
}
