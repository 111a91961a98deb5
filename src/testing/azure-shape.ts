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
 * credential it does not take; undefined when it accepts it. A SIP call's sideband
 * (`?call_id=`) names no deployment: its session was configured when the call was accepted.
 */
export function azureRealtimeRefusal(
  shape: AzureShape,
  req: IncomingMessage,
): { status: number; why: string } | undefined {
  const url = new URL(req.url ?? '/', 'ws://127.0.0.1');
  if (url.pathname !== '/openai/v1/realtime') return { status: 404, why: `path ${url.pathname}` };
  const model = url.searchParams.get('model');
  if (url.searchParams.has('call_id')) {
    if (model !== null) return { status: 400, why: `a model (${model}) with call_id` };
  } else if (model !== shape.deployment) {
    return { status: 404, why: `deployment ${model}` };
  }
  const problem = azureCredentialProblem(shape, req.headers);
  return problem ? { status: 401, why: problem } : undefined;
}

/**
 * How Azure would answer a request to its SIP calls API (`POST {endpoint}/openai/v1/realtime/
 * calls/{call_id}/accept | reject | refer | hangup`): 404 for another path, 401 for a credential
 * it does not take, 404 for an accept whose session `model` is not the deployment (Azure's model
 * names are deployment names); undefined when it takes it.
 */
export function azureCallsRefusal(
  shape: AzureShape,
  req: IncomingMessage,
  body: unknown,
): { status: number; why: string } | undefined {
  const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
  const match = /^\/openai\/v1\/realtime\/calls\/[^/]+\/(accept|reject|refer|hangup)$/.exec(path);
  if (!match || req.method !== 'POST') return { status: 404, why: `${req.method} ${path}` };
  const problem = azureCredentialProblem(shape, req.headers);
  if (problem) return { status: 401, why: problem };
  const model = (body as { model?: unknown } | undefined)?.model;
  if (match[1] === 'accept' && model !== shape.deployment) {
    return { status: 404, why: `accept for deployment ${String(model)}` };
  }
  return undefined;
}
