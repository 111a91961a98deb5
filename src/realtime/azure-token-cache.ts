import type { AccessToken, TokenCredential } from '@azure/identity';
import { AZURE_DEFAULT_TOKEN_SCOPE } from '../config/azure-openai.js';

/** The scope asked for when none is given (AZURE_OPENAI_TOKEN_SCOPE unset). */
export const AZURE_TOKEN_SCOPE = AZURE_DEFAULT_TOKEN_SCOPE;
/**
 * A token is replaced once it has less than this left: far more than one connect attempt may
 * take (OPENAI_CONNECT_TIMEOUT_MS, at most 60 s), so no upgrade goes out with a token that
 * expires on the way. Azure's own SDK pipelines refresh two minutes ahead as well.
 */
export const AZURE_TOKEN_REFRESH_MARGIN_MS = 2 * 60_000;
/** The most one token request may take (a managed identity endpoint that does not answer). */
export const AZURE_TOKEN_TIMEOUT_MS = 10_000;
/** A credential's error (DefaultAzureCredential lists every source it tried) is cut to this. */
const MAX_ERROR_CHARS = 500;

/**
 * A cached token whose refresh failed still serves while it has more than this left: the token
 * only has to be valid when the upgrade reaches Azure (an open socket outlives it), which takes
 * well under this once the TCP and TLS handshakes are done. An identity endpoint that fails in a
 * token's last two minutes then fails no call while the token is good.
 */
export const AZURE_TOKEN_MIN_VALIDITY_MS = 30_000;

/**
 * At most one token is dropped on Azure's word (an upgrade refused with HTTP 401) this often: a
 * credential that keeps issuing tokens Azure refuses (a wrong scope or tenant) then costs one
 * extra token request per this interval, not one per call.
 */
export const AZURE_FORCED_REFRESH_INTERVAL_MS = 30_000;

/**
 * Microsoft Entra ID tokens for Azure OpenAI from a `TokenCredential`: one token shared by every
 * connection until it is within AZURE_TOKEN_REFRESH_MARGIN_MS of its expiry (or past the refresh
 * time the credential suggests), then one request for a new one, however many connections wait
 * for it. When that request fails, the old token still serves while it has more than
 * AZURE_TOKEN_MIN_VALIDITY_MS left. Time comes from `now` (tests drive it).
 */
export class AzureTokenCache {
  private current?: AccessToken;
  private pending?: Promise<AccessToken>;
  private forcedAt = -Infinity;
  private failure?: string;

  constructor(
    private readonly credential: TokenCredential,
    private readonly now: () => number = Date.now,
    /** AZURE_OPENAI_TOKEN_SCOPE: asked for in every token request. */
    private readonly scope: string = AZURE_TOKEN_SCOPE,
  ) {}

  /** A token good for an upgrade now; rejects with a one-line reason when none can be had. */
  async token(): Promise<string> {
    const current = this.current;
    if (current && this.now() < refreshAt(current)) return current.token;
    this.pending ??= this.fetch().finally(() => (this.pending = undefined));
    try {
      return (await this.pending).token;
    } catch (error) {
      // The renewal failed, but the old token is still good for an upgrade: it serves.
      if (current && this.now() < current.expiresOnTimestamp - AZURE_TOKEN_MIN_VALIDITY_MS) {
        return current.token;
      }
      throw error;
    }
  }

  /**
   * Azure refused `token` (HTTP 401): it is dropped, so the next token() asks the credential
   * (one request however many wait, as ever) instead of sending it again until its renewal,
   * up to an hour later. True when the next token() will not be this one: it was dropped now,
   * or already replaced; false when a token was dropped less than
   * AZURE_FORCED_REFRESH_INTERVAL_MS ago and this one is kept.
   */
  rejected(token: string): boolean {
    if (this.current?.token !== token) return true;
    const now = this.now();
    if (now - this.forcedAt < AZURE_FORCED_REFRESH_INTERVAL_MS) return false;
    this.forcedAt = now;
    this.current = undefined;
    return true;
  }

  /**
   * Why the last token request failed (one line), until one succeeds: what a connection that
   * gave up waiting for a token names, since the request it waited on has not ended yet.
   */
  get lastError(): string | undefined {
    return this.failure;
  }

  private async fetch(): Promise<AccessToken> {
    try {
      const token = await this.request();
      this.failure = undefined;
      return token;
    } catch (error) {
      this.failure = (error as Error).message;
      throw error;
    }
  }

  private async request(): Promise<AccessToken> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no token within ${AZURE_TOKEN_TIMEOUT_MS} ms`)),
        AZURE_TOKEN_TIMEOUT_MS,
      );
      // A request still out must not hold a stopping process open.
      timer.unref();
    });
    let token: AccessToken | null;
    try {
      token = await Promise.race([
        this.credential.getToken(this.scope, {
          abortSignal: AbortSignal.timeout(AZURE_TOKEN_TIMEOUT_MS),
        }),
        timeout,
      ]);
    } catch (error) {
      throw new Error(oneLine(error), { cause: error });
    } finally {
      clearTimeout(timer);
    }
    if (!token?.token) throw new Error('the credential returned no token');
    if (token.expiresOnTimestamp <= this.now()) {
      throw new Error('the credential returned a token that has already expired');
    }
    this.current = token;
    return token;
  }
}

/** When a token should be replaced: the margin before expiry, or the credential's own hint if sooner. */
function refreshAt(token: AccessToken): number {
  const beforeExpiry = token.expiresOnTimestamp - AZURE_TOKEN_REFRESH_MARGIN_MS;
  return Math.min(beforeExpiry, token.refreshAfterTimestamp ?? beforeExpiry);
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.replace(/\s+/g, ' ').trim() || 'the credential failed';
  return line.length > MAX_ERROR_CHARS ? `${line.slice(0, MAX_ERROR_CHARS - 3)}...` : line;
}
