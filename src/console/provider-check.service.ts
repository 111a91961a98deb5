import { Inject, Injectable } from '@nestjs/common';
import { azureModelsUrl } from '../config/azure-openai.js';
import { openaiConfig, type OpenAIConfig } from '../config/config.namespaces.js';
import { RealtimeCredentials } from '../realtime/realtime-credentials.service.js';
import { CHECK_TIMEOUT_MS } from './console.constants.js';
import type { SetupCheck } from './setup-checks.service.js';

/**
 * The checklist's question to the model's provider: list its models with the credential every
 * call uses (OpenAI's key; in Azure mode the resource key or an Entra ID token, at
 * `{AZURE_OPENAI_ENDPOINT}/openai/v1/models`), so a refused or missing credential shows here
 * before a caller hears the fallback. Azure's v1 API has no data-plane route that lists
 * deployments (the models list names models, not deployments; deployments are Azure Resource
 * Manager's), so the deployment is said to be unchecked rather than checked.
 */
@Injectable()
export class ProviderCheck {
  constructor(
    @Inject(openaiConfig.KEY) private readonly openai: OpenAIConfig,
    private readonly credentials: RealtimeCredentials,
  ) {}

  async run(): Promise<SetupCheck> {
    const azure = this.openai.azure;
    const title = azure ? 'Azure OpenAI endpoint and credential' : 'OpenAI API key';
    const url = azure ? azureModelsUrl(azure.endpoint) : `${this.openai.apiBaseUrl}/models`;
    const fail = (detail: string, fix: string): SetupCheck => ({
      name: 'openai',
      title,
      state: 'fail',
      detail,
      fix,
    });
    let headers: Record<string, string>;
    try {
      headers = await this.credentials.headers();
    } catch (error) {
      return fail(
        `could not get a Microsoft Entra ID token for Azure OpenAI: ${(error as Error).message}`,
        'give the bridge an identity DefaultAzureCredential finds (managed identity, workload identity, or AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET) with the role Cognitive Services OpenAI User on the resource',
      );
    }
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
    } catch (error) {
      return fail(
        `could not reach ${url}: ${describeFetchError(error)}`,
        azure
          ? 'check AZURE_OPENAI_ENDPOINT and egress to it'
          : 'check egress to the OpenAI API (or OPENAI_API_BASE_URL)',
      );
    }
    // The body is small but must be read or discarded so the socket is released.
    const body = await response.text().catch(() => '');
    if (response.status === 401 || response.status === 403) {
      const what = this.credentials.usesEntraId ? 'the Entra ID token' : 'the key';
      return fail(
        azure
          ? `Azure OpenAI refused ${what} (HTTP ${response.status})`
          : `the key was refused (HTTP ${response.status})`,
        azure
          ? this.credentials.refusedHint(response.status)
          : 'set OPENAI_API_KEY to a valid key of a project with Realtime access',
      );
    }
    if (!response.ok) {
      return fail(
        `${this.credentials.provider} answered HTTP ${response.status}`,
        azure
          ? 'check AZURE_OPENAI_ENDPOINT: the resource endpoint from the Azure portal, e.g. https://<resource>.openai.azure.com'
          : 'try again later; check status.openai.com',
      );
    }
    const models = countModels(body);
    const listed = models === undefined ? '' : ` (${models} models)`;
    return {
      name: 'openai',
      title,
      state: 'ok',
      detail: azure
        ? `Azure OpenAI at ${new URL(azure.endpoint).host} accepted ${this.credentials.usesEntraId ? 'the Entra ID token' : 'the key'}${listed}; the Realtime deployment '${azure.deployment}' is not checked until a call (a missing one fails it with HTTP 404)`
        : `key accepted${listed}; Realtime model ${this.openai.model}`,
    };
  }
}

function countModels(body: string): number | undefined {
  try {
    const json = JSON.parse(body) as { data?: unknown };
    return Array.isArray(json.data) ? json.data.length : undefined;
  } catch {
    return undefined;
  }
}

function describeFetchError(error: unknown): string {
  const err = error as {
    name?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  if (err.name === 'TimeoutError') return `no answer within ${CHECK_TIMEOUT_MS} ms`;
  return err.cause?.code ?? err.cause?.message ?? err.message ?? String(error);
}
