import { UnsupportedMediaTypeException } from '@nestjs/common';
import type { Request } from 'express';

/**
 * The console's login and mutation routes take JSON only (415 otherwise): a cross-site form
 * can post form-encoded or text/plain bodies without asking, but JSON needs a CORS preflight
 * this origin never grants. With the SameSite=Strict cookie, this is the CSRF defence.
 */
export function requireJson(req: Request): void {
  if (!req.is('application/json')) throw new UnsupportedMediaTypeException('send JSON');
}
