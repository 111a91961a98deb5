import { Logger, type Provider } from '@nestjs/common';
import OpenAI from 'openai';
import { openaiConfig, type OpenAIConfig } from '../config/config.namespaces.js';
import { CALLS_API_TIMEOUT_MS } from './sip.constants.js';

/** Injection token of the `openai` package's client the SIP transport uses (calls API, webhooks). */
export const OPENAI_CLIENT = Symbol('OPENAI_CLIENT');

/**
 * Stands in for the SDK's own key in Azure mode, where OPENAI_API_KEY may be unset: the SDK
 * insists on one, but OpenAICallsClient replaces the auth headers of every request with the
 * credential RealtimeCredentials gives. Not a secret.
 */
const AZURE_SDK_KEY = 'unused-each-request-carries-its-azure-credential';

/**
 * The `openai` package's client for the REST API (OpenAI's, or in Azure mode the resource's at
 * `{AZURE_OPENAI_ENDPOINT}/openai/v1`: the plain client with that base URL, as Microsoft's
 * webhook guide does; AzureOpenAI insists on an `api-version`, which the v1 API's documented
 * calls do not send),
 * configured from our settings only. Every
 * option the SDK would otherwise read from its own environment variables (`OPENAI_BASE_URL`,
 * `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`, `OPENAI_LOG`, ...) is given, so the validated
 * configuration is the whole story (`OPENAI_CUSTOM_HEADERS` aside: the SDK always reads it). No
 * client-wide retries: each calls-API method says its own
 * (see OpenAICallsClient). The SDK's log lines go to ours at warn and above; it redacts the
 * `Authorization` header in what it logs.
 */
export function createOpenAIClient(config: OpenAIConfig): OpenAI {
  const log = new Logger('OpenAISdk');
  return new OpenAI({
    // Read when a request goes out, so the key stays in its Secret until it is needed.
    apiKey: config.azure ? AZURE_SDK_KEY : () => Promise.resolve(config.apiKey.reveal()),
    // Includes `/v1` (`/openai/v1` on Azure), as OPENAI_API_BASE_URL does (the tests point it at
    // a loopback fake).
    baseURL: config.apiBaseUrl,
    adminAPIKey: null,
    organization: null,
    project: null,
    // WebhookVerifier passes OPENAI_WEBHOOK_SECRET itself, with its tolerance.
    webhookSecret: null,
    timeout: CALLS_API_TIMEOUT_MS,
    maxRetries: 0,
    logLevel: 'warn',
    logger: {
      error: (message: string) => log.error(message),
      warn: (message: string) => log.warn(message),
      info: (message: string) => log.log(message),
      debug: (message: string) => log.debug(message),
    },
  });
}

export const openaiClientProvider: Provider = {
  provide: OPENAI_CLIENT,
  inject: [openaiConfig.KEY],
  useFactory: createOpenAIClient,
};
