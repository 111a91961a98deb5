import { jest } from '@jest/globals';
import type { AccessToken, TokenCredential } from '@azure/identity';
import {
  AZURE_FORCED_REFRESH_INTERVAL_MS,
  AZURE_TOKEN_MIN_VALIDITY_MS,
  AZURE_TOKEN_REFRESH_MARGIN_MS,
  AZURE_TOKEN_SCOPE,
  AZURE_TOKEN_TIMEOUT_MS,
  AzureTokenCache,
} from './azure-token-cache.js';

/** A credential whose answers the test decides, one per getToken. */
class ScriptedCredential implements TokenCredential {
  readonly scopes: string[] = [];
  readonly answers: Array<
    (resolve: (t: AccessToken | null) => void, reject: (e: Error) => void) => void
  > = [];
  readonly waiting: Array<{
    resolve: (t: AccessToken | null) => void;
    reject: (e: Error) => void;
  }> = [];

  getToken(scopes: string | string[]): Promise<AccessToken | null> {
    this.scopes.push([scopes].flat().join(' '));
    return new Promise((resolve, reject) => {
      const answer = this.answers.shift();
      if (answer) answer(resolve, reject);
      else this.waiting.push({ resolve, reject });
    });
  }

  /** Answers the next getToken with a token valid for `lifetimeMs` from `now`. */
  issue(token: string, expiresOnTimestamp: number, refreshAfterTimestamp?: number): void {
    this.answers.push((resolve) =>
      resolve({ token, expiresOnTimestamp, refreshAfterTimestamp, tokenType: 'Bearer' }),
    );
  }

  fail(message: string): void {
    this.answers.push((_, reject) => reject(new Error(message)));
  }
}

/** Lets a refresh running in the background settle. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('AzureTokenCache', () => {
  let now: number;
  let credential: ScriptedCredential;
  let cache: AzureTokenCache;
  const clock = () => now;

  beforeEach(() => {
    now = 1_000_000;
    credential = new ScriptedCredential();
    cache = new AzureTokenCache(credential, clock);
  });

  it('asks for the Azure AI scope and renews the token once it is within the margin of expiry', async () => {
    const expires = now + AZURE_TOKEN_REFRESH_MARGIN_MS + 60_000;
    credential.issue('t1', expires);
    credential.issue('t2', expires + 3_600_000);
    expect(await cache.token()).toBe('t1');
    now += 59_999;
    expect(await cache.token()).toBe('t1');
    expect(credential.scopes).toHaveLength(1);
    now += 1;
    // Within the margin: renewed before any connection uses it.
    expect(await cache.token()).toBe('t2');
    expect(credential.scopes).toEqual([AZURE_TOKEN_SCOPE, AZURE_TOKEN_SCOPE]);
  });

  it('asks for the scope it was given (AZURE_OPENAI_TOKEN_SCOPE) in every request', async () => {
    const scope = 'https://cognitiveservices.azure.com/.default';
    cache = new AzureTokenCache(credential, clock, scope);
    credential.issue('t1', now + AZURE_TOKEN_MIN_VALIDITY_MS);
    credential.issue('t2', now + 3_600_000);
    expect(await cache.token()).toBe('t1');
    expect(await cache.token()).toBe('t2');
    expect(credential.scopes).toEqual([scope, scope]);
  });

  it('asks once however many connections wait for a token at the same time', async () => {
    const waiting = Promise.all([cache.token(), cache.token(), cache.token()]);
    await Promise.resolve();
    expect(credential.waiting).toHaveLength(1);
    credential.waiting[0].resolve({ token: 't1', expiresOnTimestamp: now + 3_600_000 });
    expect(await waiting).toEqual(['t1', 't1', 't1']);
    expect(credential.scopes).toHaveLength(1);
  });

  it('fails in one line when no token can be had, and asks again next time', async () => {
    credential.fail(
      'EnvironmentCredential is unavailable.\n  ManagedIdentityCredential: no endpoint',
    );
    await expect(cache.token()).rejects.toThrow(
      /^EnvironmentCredential is unavailable\. ManagedIdentityCredential: no endpoint$/,
    );
    credential.issue('t2', now + 3_600_000);
    expect(await cache.token()).toBe('t2');
  });

  it('remembers why the last request failed until one succeeds', async () => {
    expect(cache.lastError).toBeUndefined();
    credential.fail('ManagedIdentityCredential: HTTP 500\n Internal Server Error');
    await expect(cache.token()).rejects.toThrow();
    expect(cache.lastError).toBe('ManagedIdentityCredential: HTTP 500 Internal Server Error');
    credential.issue('t1', now + 3_600_000);
    await cache.token();
    expect(cache.lastError).toBeUndefined();
  });

  it('refuses a token that has already expired, or none', async () => {
    credential.issue('old', now - 1);
    await expect(cache.token()).rejects.toThrow('already expired');
    credential.answers.push((resolve) => resolve(null));
    await expect(cache.token()).rejects.toThrow('no token');
  });

  it("renews after the credential's refresh hint, keeping the old token if that fails", async () => {
    credential.issue('t1', now + 3_600_000, now + 1_000);
    expect(await cache.token()).toBe('t1');
    now += 1_000;
    credential.fail('busy');
    expect(await cache.token()).toBe('t1');
    credential.issue('t2', now + 3_600_000);
    expect(await cache.token()).toBe('t2');
    expect(credential.scopes).toHaveLength(3);
  });

  it('keeps serving a token with more than the minimum validity while the identity endpoint fails', async () => {
    const expires = now + AZURE_TOKEN_REFRESH_MARGIN_MS;
    credential.issue('t1', expires);
    expect(await cache.token()).toBe('t1');
    // Its last two minutes: every refresh fails (an identity endpoint answering HTTP 500).
    for (const at of [
      expires - 119_000,
      expires - 60_000,
      expires - AZURE_TOKEN_MIN_VALIDITY_MS - 1,
    ]) {
      now = at;
      credential.fail('ManagedIdentityCredential: HTTP 500');
      expect(await cache.token()).toBe('t1');
      await settle();
    }
    // With no more than the minimum left it is not sent: the refresh's failure is the call's.
    now = expires - AZURE_TOKEN_MIN_VALIDITY_MS;
    credential.fail('ManagedIdentityCredential: HTTP 500');
    await expect(cache.token()).rejects.toThrow('ManagedIdentityCredential: HTTP 500');
  });

  it('drops a token Azure refused, so the next connection asks the credential for another', async () => {
    credential.issue('t1', now + 3_600_000);
    credential.issue('t2', now + 3_600_000);
    expect(await cache.token()).toBe('t1');
    expect(cache.rejected('t1')).toBe(true);
    expect(await cache.token()).toBe('t2');
    expect(credential.scopes).toHaveLength(2);
  });

  it('asks once for the connections that all had the refused token', async () => {
    credential.issue('t1', now + 3_600_000);
    expect(await cache.token()).toBe('t1');
    expect(cache.rejected('t1')).toBe(true);
    const waiting = Promise.all([cache.token(), cache.token()]);
    // The second refusal of the same token finds it replaced already: no second request.
    expect(cache.rejected('t1')).toBe(true);
    await settle();
    expect(credential.waiting).toHaveLength(1);
    credential.waiting[0].resolve({ token: 't2', expiresOnTimestamp: now + 3_600_000 });
    expect(await waiting).toEqual(['t2', 't2']);
    expect(credential.scopes).toHaveLength(2);
  });

  it(`drops at most one refused token per ${AZURE_FORCED_REFRESH_INTERVAL_MS} ms`, async () => {
    credential.issue('t1', now + 3_600_000);
    credential.issue('t2', now + 3_600_000);
    credential.issue('t3', now + 3_600_000);
    await cache.token();
    expect(cache.rejected('t1')).toBe(true);
    expect(await cache.token()).toBe('t2');
    now += AZURE_FORCED_REFRESH_INTERVAL_MS - 1;
    expect(cache.rejected('t2')).toBe(false);
    expect(await cache.token()).toBe('t2');
    now += 1;
    expect(cache.rejected('t2')).toBe(true);
    expect(await cache.token()).toBe('t3');
  });

  it('does not fall back to a refused token when the next request fails', async () => {
    credential.issue('t1', now + 3_600_000);
    await cache.token();
    cache.rejected('t1');
    credential.fail('ManagedIdentityCredential: HTTP 500');
    await expect(cache.token()).rejects.toThrow('HTTP 500');
  });

  it(`gives up on a credential that does not answer within ${AZURE_TOKEN_TIMEOUT_MS} ms`, async () => {
    jest.useFakeTimers();
    try {
      const waiting = cache.token();
      const failed = expect(waiting).rejects.toThrow(
        `no token within ${AZURE_TOKEN_TIMEOUT_MS} ms`,
      );
      await jest.advanceTimersByTimeAsync(AZURE_TOKEN_TIMEOUT_MS);
      await failed;
    } finally {
      jest.useRealTimers();
    }
  });
});
