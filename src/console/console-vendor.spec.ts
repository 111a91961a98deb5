import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rewriteVendorImports, VENDOR_FILES, vendorSourcePath } from './console-vendor.js';

const here = fileURLToPath(import.meta.url);

describe('vendored front-end modules', () => {
  it.each(VENDOR_FILES.map((v) => [v.name, v]))(
    '%s resolves from node_modules and keeps no bare import after the rewrite',
    (_name, vendor) => {
      const source = readFileSync(vendorSourcePath(vendor, here), 'utf8');
      const rewritten = rewriteVendorImports(source, vendor.name);
      expect(rewritten).not.toMatch(/from\s*["']preact["']/);
      expect(rewritten.length).toBeGreaterThan(500);
    },
  );

  it('points the hooks at the vendored preact', () => {
    expect(rewriteVendorImports('import{options as n}from"preact";', 'hooks.mjs')).toBe(
      'import{options as n}from"./preact.mjs";',
    );
  });

  it('refuses a module that still imports a package the browser cannot resolve', () => {
    expect(() => rewriteVendorImports('import x from "left-pad";', 'x.mjs')).toThrow(
      /unresolved bare import/,
    );
  });
});
