import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { TokenCredential } from '@azure/identity';
import { openaiConfig, type OpenAIConfig } from '../config/config.namespaces.js';
import { AzureTokenCache } from './azure-token-cache.js';

/**
 * The DI token under which an application may provide the `TokenCredential` (from
 * `@azure/identity` or `@azure/core-auth`) used with AZURE_OPENAI_AUTH=entra, in its own module,
 * as it provides CALL_SETTINGS_RESOLVER. None provided: `new DefaultAzureCredential()`, created
 * on first use and only in that mode.
 */
export const AZURE_TOKEN_CREDENTIAL = Symbol('AZURE_TOKEN_CREDENTIAL');

/** Headers now, or once a token has been had (Entra ID). */
export type AuthHeaders = Record<string, string> | Promise<Record<string, string>>;

/**
 * How the bridge authenticates to the model's provider, for every Realtime connection (first
 * connects and reconnects) and the console's check: OpenAI's key as a Bearer token; in Azure
 * mode the resource key as `api-key` (and no Authorization), or an Entra ID token as Bearer.
 */
@Injectable()
export class RealtimeCredentials {
  private tokens?: Promise<AzureTokenCache>;
  /** The cache once made (tokens resolved): what a refusal tells about its token. */
  private cache?: AzureTokenCache;

  constructor(
    @Inject(openaiConfig.KEY) private readonly openai: OpenAIConfig,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** Why the last Entra ID token request failed, until one succeeds. */
  get lastTokenError(): string | undefined {
    return this.cache?.lastError;
  }

  /** Who is asked: named in failures and in the console's checklist. */
  get provider(): 'OpenAI' | 'Azure OpenAI' {
    return this.openai.azure ? 'Azure OpenAI' : 'OpenAI';
  }

  /**
   * What to check when the credential is refused. With Entra ID the two statuses mean different
   * things: 401, Azure did not take the token itself (issued for another audience, or by another
   * tenant than the resource's); 403, it did, but the identity has no role on the resource.
   */
  refusedHint(status: number | undefined): string {
    const azure = this.openai.azure;
    if (!azure) return 'check OPENAI_API_KEY';
    if (azure.auth === 'key') return 'check AZURE_OPENAI_API_KEY';
    if (status === 403) {
      return "check that the bridge's identity has the role Cognitive Services OpenAI User on the resource";
    }
    return `check the token's audience (AZURE_OPENAI_TOKEN_SCOPE, now ${azure.tokenScope}; a classic Azure OpenAI resource may need https://cognitiveservices.azure.com/.default) and that the identity belongs to the resource's tenant (AZURE_TENANT_ID)`;
  }

  /** A call's failure when the provider refused the credential with `status`. */
  refused(status: number | undefined): string {
    const what = this.usesEntraId ? 'the Entra ID token' : 'the API key';
    return `${this.provider} rejected ${what} (HTTP ${status}); ${this.refusedHint(status)}`;
  }

  /** A call's failure when no Entra ID token could be had. */
  noToken(reason: string): string {
    return `could not get a Microsoft Entra ID token for Azure OpenAI (${reason}); the console's setup checklist shows the same`;
  }

  /**
   * The provider refused an upgrade sent with `headers` (HTTP `status`). A 401 to an Entra ID
   * token drops that token (AzureTokenCache.rejected, bounded): Azure will not take it again,
   * and it would otherwise be sent until its renewal, up to an hour later. True when another
   * attempt will carry a new token, so the caller may retry instead of failing the call.
   */
  renewsRefused(status: number | undefined, headers: Record<string, string>): boolean {
    if (status !== 401 || !this.usesEntraId || !this.cache) return false;
    const token = /^Bearer (.+)$/.exec(headers.Authorization ?? '')?.[1];
    return token !== undefined && this.cache.rejected(token);
  }

  /** True when headers() must first get a token (and may fail to). */
  get usesEntraId(): boolean {
    return this.openai.azure?.auth === 'entra';
  }

  /** The headers that authenticate one connection or request. */
  headers(): AuthHeaders {
    const azure = this.openai.azure;
    if (!azure) return { Authorization: `Bearer ${this.openai.apiKey.reveal()}` };
    if (azure.auth === 'key') return { 'api-key': azure.apiKey?.reveal() ?? '' };
    return this.entraToken().then((token) => ({ Authorization: `Bearer ${token}` }));
  }

  private async entraToken(): Promise<string> {
    this.tokens ??= this.createTokenCache().catch((error: unknown) => {
      this.tokens = undefined;
      throw error;
    });
    return (await this.tokens).token();
  }

  private async createTokenCache(): Promise<AzureTokenCache> {
    let credential: TokenCredential | undefined;
    try {
      credential = this.moduleRef.get<TokenCredential>(AZURE_TOKEN_CREDENTIAL, { strict: false });
    } catch {
      // Loaded only here: a bridge that does not use Entra ID never loads the Azure SDK.
      const { DefaultAzureCredential } = await import('@azure/identity');
      credential = new DefaultAzureCredential();
    }
    this.cache = new AzureTokenCache(credential, Date.now, this.openai.azure?.tokenScope);
    return this.cache;
  }
}
