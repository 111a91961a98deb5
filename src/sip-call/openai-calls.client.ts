import { Inject, Injectable } from '@nestjs/common';
import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { CallAcceptParams } from 'openai/resources/realtime/calls';
import { RealtimeCredentials } from '../realtime/realtime-credentials.service.js';
import { OPENAI_CLIENT } from './openai-client.provider.js';
import {
  CALL_ID_PATTERN,
  CALLS_API_DEADLINE_MS,
  CALLS_API_MAX_ERROR_CHARS,
  CALLS_API_REPEATABLE_RETRIES,
  CALLS_API_TIMEOUT_MS,
} from './sip.constants.js';

/** A calls-API request that failed for good (after any retries). */
export class OpenAICallsApiError extends Error {
  constructor(
    message: string,
    /** HTTP status, when OpenAI answered at all. */
    readonly status?: number,
    /** False when nothing was sent (a malformed id, no credential). */
    readonly sent = true,
  ) {
    super(message);
    this.name = 'OpenAICallsApiError';
  }
}

type Action = 'accept' | 'reject' | 'refer' | 'hangup';

/**
 * The Realtime calls API for SIP calls, through the `openai` package
 * (`client.realtime.calls.accept | reject | refer | hangup`): OpenAI's, or in Azure mode the
 * resource's at `{AZURE_OPENAI_ENDPOINT}/openai/v1` (the same paths and bodies, docs/sip.md).
 * Every request carries the credential RealtimeCredentials gives the Realtime connections too
 * (OpenAI's key as Bearer; Azure's `api-key`, or an Entra ID token as Bearer, fetched per
 * request so none is sent expired). Each attempt times out after
 * CALLS_API_TIMEOUT_MS, a request with its retries after CALLS_API_DEADLINE_MS. The SDK retries
 * whatever may be transient (connection errors, timeouts, 408, 409, 429, 5xx), without knowing
 * whether OpenAI already acted, so retries are set per action by what a second copy would do.
 */
@Injectable()
export class OpenAICallsClient {
  constructor(
    @Inject(OPENAI_CLIENT) private readonly client: OpenAI,
    private readonly credentials: RealtimeCredentials,
  ) {}

  /**
   * Answers the call, configuring its Realtime session. Never retried: an accept that timed out
   * or got a 5xx may have landed, and a second one would be refused or reconfigure the live
   * session; a failed accept ends the call record instead, and one that may have landed is hung
   * up (SipCallLine.accept).
   */
  accept(callId: string, session: CallAcceptParams): Promise<void> {
    return this.send('accept', callId, 0, (options) =>
      this.client.realtime.calls.accept(callId, session, options),
    );
  }

  /**
   * Declines the call with a SIP status (486 busy, 603 decline, ...). Retried: declining a call
   * twice changes nothing, and a reject that never arrives leaves the caller ringing.
   */
  reject(callId: string, statusCode: number): Promise<void> {
    return this.send('reject', callId, CALLS_API_REPEATABLE_RETRIES, (options) =>
      this.client.realtime.calls.reject(callId, { status_code: statusCode }, options),
    );
  }

  /**
   * Transfers the call (SIP REFER) to `tel:+1...` or `sip:...`. Never retried: a REFER that
   * landed and is sent again would transfer the caller twice; a failed transfer is followed by a
   * hang-up (SipCallLine), so the caller is not left with a silent assistant.
   */
  refer(callId: string, targetUri: string): Promise<void> {
    return this.send('refer', callId, 0, (options) =>
      this.client.realtime.calls.refer(callId, { target_uri: targetUri }, options),
    );
  }

  /** Ends the call. Retried: hanging up a call that is already down changes nothing. */
  hangup(callId: string): Promise<void> {
    return this.send('hangup', callId, CALLS_API_REPEATABLE_RETRIES, (options) =>
      this.client.realtime.calls.hangup(callId, options),
    );
  }

  private async send(
    action: Action,
    callId: string,
    maxRetries: number,
    request: (options: OpenAI.RequestOptions) => Promise<void>,
  ): Promise<void> {
    // Checked at the webhook already; checked again because the id becomes part of a URL.
    if (!CALL_ID_PATTERN.test(callId)) {
      throw new OpenAICallsApiError('malformed call id', undefined, false);
    }
    let auth: Record<string, string>;
    try {
      auth = await this.credentials.headers();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const why = `${action} ${callId}: ${this.credentials.noToken(reason)}`;
      throw new OpenAICallsApiError(why, undefined, false);
    }
    const started = performance.now();
    try {
      await request({
        maxRetries,
        timeout: CALLS_API_TIMEOUT_MS,
        // Bounds the retries' waits too: the SDK honours a Retry-After of up to 60 s.
        signal: AbortSignal.timeout(CALLS_API_DEADLINE_MS),
        // Null drops what the SDK's own auth would add: only this credential's header goes out
        // (on Azure with its key: `api-key`, and no Authorization).
        headers: { Authorization: null, 'api-key': null, ...auth },
      });
    } catch (error) {
      const status = httpStatus(error);
      const hint =
        status === 401 || status === 403 ? `; ${this.credentials.refusedHint(status)}` : '';
      // Every attempt took the whole timeout: the SDK may call that a connection error.
      const timedOut = performance.now() - started >= CALLS_API_TIMEOUT_MS * (maxRetries + 1);
      const detail = redact(`${describe(error, timedOut)}${hint}`, auth).slice(
        0,
        CALLS_API_MAX_ERROR_CHARS,
      );
      throw new OpenAICallsApiError(`${action} ${callId}: ${detail}`, status);
    }
  }
}

/** What went wrong, in words (`timedOut`: every attempt waited CALLS_API_TIMEOUT_MS). */
function describe(error: unknown, timedOut: boolean): string {
  const unanswered = error instanceof APIError && httpStatus(error) === undefined;
  if (error instanceof APIConnectionTimeoutError || (unanswered && timedOut)) {
    return `no answer within ${CALLS_API_TIMEOUT_MS} ms`;
  }
  if (error instanceof APIUserAbortError) return `no success within ${CALLS_API_DEADLINE_MS} ms`;
  // The SDK's message is "<status> <the provider's error message or body>".
  if (error instanceof APIError && httpStatus(error) !== undefined) return `HTTP ${error.message}`;
  // A connection error: the provider never answered.
  if (error instanceof APIError) return `request failed (${networkCode(error) ?? error.message})`;
  return `request failed (${error instanceof Error ? error.message : String(error)})`;
}

/** Never the key or token, even if a proxy in between echoed it. */
function redact(detail: string, auth: Record<string, string>): string {
  return Object.values(auth)
    .map((value) => value.replace(/^Bearer /, ''))
    .filter((secret) => secret.length > 0)
    .reduce((text, secret) => text.split(secret).join('[redacted]'), detail);
}

/** The HTTP status OpenAI answered with, if it answered. */
function httpStatus(error: unknown): number | undefined {
  // The SDK's APIError types its status generically; narrowed here to what it holds.
  const status: unknown = error instanceof APIError ? error.status : undefined;
  return typeof status === 'number' ? status : undefined;
}

/** The network error code under the SDK's connection error (fetch's TypeError, then its cause). */
function networkCode(error: Error): string | undefined {
  // Duck-typed: fetch's errors may come from another realm, where `instanceof Error` fails.
  let cause: unknown = error.cause;
  for (let depth = 0; depth < 3 && typeof cause === 'object' && cause !== null; depth++) {
    const { code, cause: next } = cause as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    cause = next;
  }
  return undefined;
}
