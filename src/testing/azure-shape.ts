import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/** Azure OpenAI's credentials: the resource key, or Entra ID tokens (one of the two). */
export interface AzureCredentialShape {
  /** Key mode: the only `api-key` accepted, with no Authorization header. */
  apiKey?: string;
  /** Entra ID mode: whether a Bearer token is one Azure would take now (issued, not expired). */
  acceptsToken?: (token: string) => boolean;
}

/**
 * Azure OpenAI's shape of the GA Realtime upgrade: path /openai/v1/realtime, `model` = the
 * deployment's name, and the credential as AzureCredentialShape says.
 */
export interface AzureShape extends AzureCredentialShape {
  deployment: string;
}

/** Why Azure would refuse these headers' credential (401), or undefined when it takes it. */
export function azureCredentialProblem(
  shape: AzureCredentialShape,
  headers: IncomingHttpHeaders,
): string | undefined {
  const key = headers['api-key'];
  const { authorization } = headers;
  if (shape.apiKey !== undefined) {
    if (authorization !== undefined) return 'an Authorization header';
    return key === shape.apiKey ? undefined : 'no or a wrong api-key';
  }
  if (key !== undefined) return 'an api-key header';
  const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
  return token && shape.acceptsToken?.(token) ? undefined : 'no or a bad token';
}

/**
 * How Azure would answer a Realtime upgrade: 404 for another path or deployment, 401 for a
 * credential it does not take; undefined when it accepts it.
 */
export function azureRealtimeRefusal(
  shape: AzureShape,
  req: IncomingMessage,
): { status: number; why: string } | undefined {
  const url = new URL(req.url ?? '/', 'ws://127.0.0.1');
  if (url.pathname !== '/openai/v1/realtime') return { status: 404, why: `path ${url.pathname}` };
  const model = url.searchParams.get('model');
  if (model !== shape.deployment) return { status: 404, why: `deployment ${model}` };
  const problem = azureCredentialProblem(shape, req.headers);
  return problem ? { status: 401, why: problem } : undefined;
}
