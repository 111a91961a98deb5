import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/**
 * A strict Content-Security-Policy for everything under /console: scripts, styles and data only
 * from this origin, no inline script or style attribute, no framing, no plugins. The page is
 * built for it (ES modules by URL, styles in a file, sizes set through the CSSOM), so an
 * injected `<script>` or `style=` would not run even if some text escaped its escaping.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  // The History view's player: recordings from this origin only.
  "media-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

@Injectable()
export class ConsoleHeadersMiddleware implements NestMiddleware {
  use(_req: Request, res: Response, next: NextFunction): void {
    res.setHeader('content-security-policy', CONSOLE_CSP);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('cross-origin-opener-policy', 'same-origin');
    res.setHeader('cross-origin-resource-policy', 'same-origin');
    // Data routes are never cached; static files set their own (revalidated) policy.
    res.setHeader('cache-control', 'no-store');
    next();
  }
}
