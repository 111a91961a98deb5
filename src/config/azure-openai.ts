import { optionalText } from './env.parsers.js';
import type { ParsedEnv } from './env.schema.js';
import { Secret } from './secret.js';

/**
 * Azure OpenAI (AZURE_OPENAI_ENDPOINT set): the same GA Realtime protocol at the resource's own
 * endpoint, authenticated with its key (`api-key` header) or a Microsoft Entra ID token
 * (`Authorization: Bearer`). The rules and the derived URL live here so the schema, the rules and
 * the configuration namespace read them from one place.
 */

/** AZURE_OPENAI_AUTH: `key` (AZURE_OPENAI_API_KEY, the default) or `entra` (Microsoft Entra ID). */
export const AZURE_AUTH_MODES = ['key', 'entra'] as const;
export type AzureAuthMode = (typeof AZURE_AUTH_MODES)[number];

/**
 * The Entra ID scope asked for by default: the audience of Azure OpenAI's v1 API in the public
 * cloud (openai-node's Azure example asks for it). AZURE_OPENAI_TOKEN_SCOPE replaces it.
 */
export const AZURE_DEFAULT_TOKEN_SCOPE = 'https://ai.azure.com/.default';

/** The GA Realtime path under an Azure endpoint (v1: no `api-version`; `model` = deployment). */
export const AZURE_REALTIME_PATH = '/openai/v1/realtime';
/** The REST API under an Azure endpoint: the SIP calls API (`/realtime/calls/{id}/accept` ...). */
export const AZURE_API_PATH = '/openai/v1';
/** What the console's checklist lists to check the endpoint and its credentials. */
export const AZURE_MODELS_PATH = '/openai/v1/models';
/** OpenAI's own Realtime endpoint: OPENAI_REALTIME_URL's default outside Azure mode. */
export const OPENAI_REALTIME_DEFAULT_URL = 'wss://api.openai.com/v1/realtime';
/** OpenAI's own REST API: OPENAI_API_BASE_URL's default outside Azure mode. */
export const OPENAI_API_DEFAULT_URL = 'https://api.openai.com/v1';

export interface AzureOpenAIConfig {
  /** AZURE_OPENAI_ENDPOINT, e.g. `https://my-resource.openai.azure.com` (no trailing slash). */
  endpoint: string;
  /** AZURE_OPENAI_DEPLOYMENT (default OPENAI_REALTIME_MODEL): the `model` query parameter. */
  deployment: string;
  auth: AzureAuthMode;
  /** AZURE_OPENAI_API_KEY, in `key` mode. */
  apiKey?: Secret;
  /** AZURE_OPENAI_TOKEN_SCOPE (default AZURE_DEFAULT_TOKEN_SCOPE): every Entra ID token's scope. */
  tokenScope: string;
}

type RawEnv = Readonly<Record<string, string | undefined>>;

const text = (value: string | undefined): string | undefined => value?.trim() || undefined;

/** The Azure variables other than the endpoint: meaningless, so refused, without it. */
const AZURE_DETAILS = [
  'AZURE_OPENAI_DEPLOYMENT',
  'AZURE_OPENAI_API_KEY',
  'AZURE_OPENAI_AUTH',
  'AZURE_OPENAI_TOKEN_SCOPE',
];

/**
 * AZURE_OPENAI_TOKEN_SCOPE: an https URL ending in `/.default`, the only form of scope a
 * client-credential or managed-identity token request takes (`https://<audience>/.default`).
 */
export const tokenScope = optionalText.refine(
  (value) => {
    if (value === undefined) return true;
    if (!URL.canParse(value)) return false;
    const url = new URL(value);
    return url.protocol === 'https:' && url.pathname.endsWith('/.default') && !url.search;
  },
  {
    message:
      'expected an https URL ending in /.default, such as https://cognitiveservices.azure.com/.default',
  },
);

/**
 * The endpoint the bridge adds its paths to: without trailing slashes, and without a trailing
 * `/openai` or `/openai/v1`, which the portal's samples and SDK base URLs include. Kept, the
 * path would double (`/openai/v1/openai/v1/realtime`) and every call would get a 404.
 */
export function azureEndpointBase(endpoint: string): string {
  const url = new URL(endpoint);
  url.pathname = url.pathname.replace(/\/+$/, '').replace(/\/openai(\/v1)?\/*$/i, '');
  return url.toString().replace(/\/+$/, '');
}

/** `https` -> `wss`, `http` -> `ws`, path + AZURE_REALTIME_PATH. */
export function azureRealtimeUrl(endpoint: string): string {
  const url = new URL(azureEndpointBase(endpoint));
  url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${AZURE_REALTIME_PATH}`;
  return url.toString();
}

/** `{endpoint}/openai/v1/models` (https stays https). */
export function azureModelsUrl(endpoint: string): string {
  return underEndpoint(endpoint, AZURE_MODELS_PATH);
}

/** `{endpoint}/openai/v1`: the base of Azure's REST API, as OPENAI_API_BASE_URL is OpenAI's. */
export function azureApiBaseUrl(endpoint: string): string {
  return underEndpoint(endpoint, AZURE_API_PATH);
}

function underEndpoint(endpoint: string, path: string): string {
  const url = new URL(azureEndpointBase(endpoint));
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  return url.toString();
}

/**
 * A URL's host as DNS resolves it: lower case, without the trailing dot of a fully qualified
 * name (`api.openai.com.` is api.openai.com); undefined when it is not a URL.
 */
function hostOf(value: string): string | undefined {
  if (!URL.canParse(value)) return undefined;
  return new URL(value).hostname.toLowerCase().replace(/\.+$/, '');
}

const under = (host: string, domain: string) => host === domain || host.endsWith(`.${domain}`);

/** OpenAI's own hosts (api.openai.com and the rest of openai.com; not *.openai.azure.com). */
export function isOpenAIHost(value: string): boolean {
  const host = hostOf(value);
  return host !== undefined && under(host, 'openai.com');
}

/** Where Azure OpenAI and Azure AI Foundry resources are served, sovereign clouds included. */
const AZURE_AI_DOMAINS = [
  'openai.azure.com',
  'cognitiveservices.azure.com',
  'services.ai.azure.com',
  'openai.azure.us',
  'cognitiveservices.azure.us',
  'openai.azure.cn',
  'cognitiveservices.azure.cn',
];

/** An Azure OpenAI (or Azure AI) resource's host. */
export function isAzureAIHost(value: string): boolean {
  const host = hostOf(value);
  return host !== undefined && AZURE_AI_DOMAINS.some((domain) => under(host, domain));
}

/** Plain http/ws is taken only where nothing leaves the machine. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** A URL that would carry a credential in cleartext off the machine (http or ws, not loopback). */
function cleartextOffHost(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  const plain = url.protocol === 'http:' || url.protocol === 'ws:';
  return plain && !LOOPBACK_HOSTS.has(hostOf(value) ?? '');
}

/**
 * The cross-variable rules of Azure mode, one line each. The endpoint's own shape is the schema's
 * (`url`); these hold even when it is malformed, so every problem shows at once.
 */
export function azureProblems(env: RawEnv): string[] {
  if (text(env.AZURE_OPENAI_ENDPOINT) === undefined) return openAIModeProblems(env);
  const problems: string[] = [];
  for (const name of ['AZURE_OPENAI_ENDPOINT', 'OPENAI_REALTIME_URL', 'OPENAI_API_BASE_URL']) {
    const value = text(env[name]);
    if (value !== undefined && cleartextOffHost(value)) {
      problems.push(
        `${name}: is plain http/ws to another machine, which would send the Azure credential in cleartext; use https/wss (plain is taken for 127.0.0.1, ::1 and localhost only)`,
      );
    }
  }
  const entra = text(env.AZURE_OPENAI_AUTH) === 'entra';
  const key = text(env.AZURE_OPENAI_API_KEY) !== undefined;
  if (entra && key) {
    problems.push(
      'AZURE_OPENAI_API_KEY: set together with AZURE_OPENAI_AUTH=entra; use one: the key (unset AZURE_OPENAI_AUTH) or Microsoft Entra ID (unset the key)',
    );
  } else if (!entra && !key) {
    problems.push(
      'AZURE_OPENAI_API_KEY: is required with AZURE_OPENAI_ENDPOINT (or set AZURE_OPENAI_AUTH=entra to use a Microsoft Entra ID token)',
    );
  }
  if (!entra && text(env.AZURE_OPENAI_TOKEN_SCOPE) !== undefined) {
    problems.push(
      'AZURE_OPENAI_TOKEN_SCOPE: is only used with AZURE_OPENAI_AUTH=entra (a key needs no scope)',
    );
  }
  const realtimeUrl = text(env.OPENAI_REALTIME_URL);
  if (realtimeUrl !== undefined && isOpenAIHost(realtimeUrl)) {
    problems.push(
      'OPENAI_REALTIME_URL: points at OpenAI while AZURE_OPENAI_ENDPOINT is set; an Azure credential must never go to OpenAI (unset it: the URL is derived from the endpoint)',
    );
  }
  const apiBaseUrl = text(env.OPENAI_API_BASE_URL);
  if (apiBaseUrl !== undefined && isOpenAIHost(apiBaseUrl)) {
    problems.push(
      'OPENAI_API_BASE_URL: points at OpenAI while AZURE_OPENAI_ENDPOINT is set; an Azure credential must never go to OpenAI (unset it: the SIP calls API is derived from the endpoint)',
    );
  }
  return problems;
}

/**
 * Outside Azure mode: Azure variables are meaningless, and an OpenAI URL at an Azure resource
 * would send OpenAI's key to Azure (and Azure would refuse it anyway).
 */
function openAIModeProblems(env: RawEnv): string[] {
  const problems = AZURE_DETAILS.filter((name) => text(env[name]) !== undefined).map(
    (name) => `${name}: is only used with AZURE_OPENAI_ENDPOINT, which is not set`,
  );
  for (const name of ['OPENAI_REALTIME_URL', 'OPENAI_API_BASE_URL']) {
    const value = text(env[name]);
    if (value !== undefined && isAzureAIHost(value)) {
      problems.push(
        `${name}: points at an Azure OpenAI resource while AZURE_OPENAI_ENDPOINT is not set; OpenAI's key must never go to Azure (set AZURE_OPENAI_ENDPOINT to the resource's endpoint instead, and unset this)`,
      );
    }
  }
  return problems;
}

/**
 * The openai namespace's `azure` part: present in Azure mode only (an optional property, so code
 * that builds an OpenAI configuration by hand need not name it).
 */
export function azureConfigOf(env: ParsedEnv): { azure?: AzureOpenAIConfig } {
  if (env.AZURE_OPENAI_ENDPOINT === undefined) return {};
  return {
    azure: {
      endpoint: azureEndpointBase(env.AZURE_OPENAI_ENDPOINT),
      deployment: env.AZURE_OPENAI_DEPLOYMENT ?? env.OPENAI_REALTIME_MODEL,
      auth: env.AZURE_OPENAI_AUTH,
      apiKey: env.AZURE_OPENAI_API_KEY ? new Secret(env.AZURE_OPENAI_API_KEY) : undefined,
      tokenScope: env.AZURE_OPENAI_TOKEN_SCOPE ?? AZURE_DEFAULT_TOKEN_SCOPE,
    },
  };
}

/**
 * OPENAI_REALTIME_URL as written when set; otherwise Azure's, derived from the endpoint, or
 * OpenAI's default. The default is not in the schema: in Azure mode it would send the Azure
 * credential to OpenAI.
 */
export function realtimeUrlOf(env: ParsedEnv): string {
  if (env.OPENAI_REALTIME_URL !== undefined) return env.OPENAI_REALTIME_URL;
  return env.AZURE_OPENAI_ENDPOINT !== undefined
    ? azureRealtimeUrl(env.AZURE_OPENAI_ENDPOINT)
    : OPENAI_REALTIME_DEFAULT_URL;
}

/**
 * OPENAI_API_BASE_URL as written when set; otherwise Azure's (`{endpoint}/openai/v1`, where
 * Azure serves the SIP calls API) or OpenAI's. Not a schema default, for the same reason as
 * realtimeUrlOf.
 */
export function apiBaseUrlOf(env: ParsedEnv): string {
  if (env.OPENAI_API_BASE_URL !== undefined) return env.OPENAI_API_BASE_URL;
  return env.AZURE_OPENAI_ENDPOINT !== undefined
    ? azureApiBaseUrl(env.AZURE_OPENAI_ENDPOINT)
    : OPENAI_API_DEFAULT_URL;
}
