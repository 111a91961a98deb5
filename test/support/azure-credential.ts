import { Module } from '@nestjs/common';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { AZURE_TOKEN_CREDENTIAL } from 'twilio-realtime-bridge';

/**
 * A TokenCredential as `@azure/identity`'s are: each getToken issues a new token, valid for
 * `lifetimeMs`. It remembers what it issued, so the fakes can tell a live token from an expired
 * or made-up one.
 */
export class CountingCredential implements TokenCredential {
  readonly scopes: string[] = [];
  readonly issued = new Map<string, number>();
  failWith?: Error;
  /** Set: getToken never answers (a hung identity endpoint) until the caller aborts it. */
  hangs = false;

  constructor(private readonly lifetimeMs: number) {}

  get calls(): number {
    return this.scopes.length;
  }

  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    this.scopes.push([scopes].flat().join(' '));
    if (this.failWith) return Promise.reject(this.failWith);
    if (this.hangs) {
      return new Promise((_, reject) =>
        options?.abortSignal?.addEventListener('abort', () => reject(new Error('aborted'))),
      );
    }
    const token = `entra-token-${this.calls}`;
    const expiresOnTimestamp = Date.now() + this.lifetimeMs;
    this.issued.set(token, expiresOnTimestamp);
    return Promise.resolve({ token, expiresOnTimestamp, tokenType: 'Bearer' });
  }

  /** What Azure checks: a token it issued, not yet expired. */
  accepts = (token: string): boolean => (this.issued.get(token) ?? 0) > Date.now();
}

/** The application's module giving the bridge its credential, as a team would. */
export function credentialModule(credential: TokenCredential) {
  @Module({
    providers: [{ provide: AZURE_TOKEN_CREDENTIAL, useValue: credential }],
    exports: [AZURE_TOKEN_CREDENTIAL],
  })
  class CredentialModule {}
  return CredentialModule;
}
