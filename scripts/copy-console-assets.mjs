// Build step of the operator console (run by `npm run build` after `nest build`): copies its
// static files from src/console/public to <out>/console/public, and vendors Preact and htm from
// node_modules into <out>/console/public/vendor (no CDN: the page loads only from the bridge).
// <out> is the first argument, `dist` by default; `npm run build:tools` passes `dist-tools/src`,
// so the simulator's and the demo's in-process bridge serve the console too.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outRoot = join(root, process.argv[2] ?? 'dist');
const { VENDOR_FILES, vendorSourcePath, rewriteVendorImports } = await import(
  join(outRoot, 'console/console-vendor.js')
);

const out = join(outRoot, 'console/public');
cpSync(join(root, 'src/console/public'), out, { recursive: true });
mkdirSync(join(out, 'vendor'), { recursive: true });
for (const vendor of VENDOR_FILES) {
  const source = vendorSourcePath(vendor, join(root, 'package.json'));
  const text = rewriteVendorImports(readFileSync(source, 'utf8'), source);
  writeFileSync(join(out, 'vendor', vendor.name), text);
}
// `npm run demo` builds quietly (`--silent`): its first screen is the call, not the build.
if (process.env.npm_config_loglevel !== 'silent') {
  console.log(`console assets: ${VENDOR_FILES.length} vendored modules -> ${out}`);
}
