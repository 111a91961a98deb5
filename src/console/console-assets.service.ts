import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { callControlConfig } from '../config/config.namespaces.js';
import type { CallControlConfig } from '../config/config.namespaces.js';
import { BridgeMount } from '../http/bridge-mount.service.js';
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
  private mounted?: { mount: string; page: ConsoleAsset };

  constructor(
    @Inject(callControlConfig.KEY) private readonly cfg: CallControlConfig,
    private readonly mount: BridgeMount,
  ) {}

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
    this.log.log(`operator console at ${this.mount.path}/console (${this.files.size} files)`);
  }

  /** `index.html`, `app.js`, `vendor/preact.mjs`, ... */
  get(name: string): ConsoleAsset | undefined {
    return this.files.get(name);
  }

  /**
   * The page, its links to its files under the bridge's mount (BridgeMount): at /voice/console
   * it loads /voice/console/assets/app.js. The only place the mount enters the console: its
   * scripts resolve every other path against their own URL (lib.js `consoleUrl`). At the root,
   * index.html as built; under a mount, rewritten once (the mount is fixed by `init()`), with an
   * ETag of its own.
   */
  page(): ConsoleAsset | undefined {
    const index = this.files.get('index.html');
    const mount = this.mount.path;
    if (!index || !mount) return index;
    if (this.mounted?.mount !== mount) {
      const body = index.body
        .toString('utf8')
        .replaceAll('="/console/', `="${escapeAttribute(mount)}/console/`);
      this.mounted = { mount, page: asset('index.html', Buffer.from(body)) };
    }
    return this.mounted.page;
  }

  private add(name: string, body: Buffer): void {
    this.files.set(name, asset(name, body));
  }
}

function asset(name: string, body: Buffer): ConsoleAsset {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
  return { body, contentType: CONTENT_TYPES[extname(name)], etag };
}

/** The application names its prefix; still, nothing it holds may end the attribute early. */
function escapeAttribute(text: string): string {
  return text.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
}
