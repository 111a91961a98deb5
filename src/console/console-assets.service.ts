import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { callControlConfig } from '../config/config.namespaces.js';
import type { CallControlConfig } from '../config/config.namespaces.js';
import { rewriteVendorImports, VENDOR_FILES, vendorSourcePath } from './console-vendor.js';

export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * The console's static files, read once at start-up and served from memory (a few tens of KB).
 * Only files found here can be served: a request names a key of this map, never a path, so
 * nothing outside the folder is reachable. Built, they sit in dist/console/public with vendor/
 * beside them; run from source (tests, `start:dev`), the vendored modules come straight from
 * node_modules through the same rewrite the build applies.
 */
@Injectable()
export class ConsoleAssets implements OnModuleInit {
  private readonly log = new Logger('Console');
  private readonly files = new Map<string, ConsoleAsset>();

  constructor(@Inject(callControlConfig.KEY) private readonly cfg: CallControlConfig) {}

  onModuleInit(): void {
    if (!this.cfg.apiToken) return;
    const dir = fileURLToPath(new URL('./public/', import.meta.url));
    if (!existsSync(dir)) {
      // Calls matter more than the console: the bridge runs on, and /console answers 404.
      this.log.error(`console files missing at ${dir}: build with "npm run build"`);
      return;
    }
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isFile() && CONTENT_TYPES[extname(name)]) {
        this.add(name, readFileSync(path));
      }
    }
    const vendorDir = join(dir, 'vendor');
    for (const vendor of VENDOR_FILES) {
      const built = join(vendorDir, vendor.name);
      const body = existsSync(built)
        ? readFileSync(built)
        : Buffer.from(
            rewriteVendorImports(
              readFileSync(vendorSourcePath(vendor, fileURLToPath(import.meta.url)), 'utf8'),
              vendor.name,
            ),
          );
      this.add(`vendor/${vendor.name}`, body);
    }
    this.log.log(`operator console at /console (${this.files.size} files)`);
  }

  /** `index.html`, `app.js`, `vendor/preact.mjs`, ... */
  get(name: string): ConsoleAsset | undefined {
    return this.files.get(name);
  }

  private add(name: string, body: Buffer): void {
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
    this.files.set(name, { body, contentType: CONTENT_TYPES[extname(name)], etag });
  }
}
