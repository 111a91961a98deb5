import { Inject, Injectable, Logger } from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';
import { openaiConfig, type OpenAIConfig } from '../config/config.namespaces.js';
import {
  CALL_ID_PATTERN,
  CALLS_API_BACKOFF_MS,
  CALLS_API_MAX_ERROR_CHARS,
  CALLS_API_TIMEOUT_MS,
} from './sip.constants.js';

/** A calls-API request that failed for good (after any retries). */
export class OpenAICallsApiError extends Error {
  constructor(
    message: string,
    /** HTTP status, when OpenAI answered at all. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'OpenAICallsApiError';
  }
}

/**
 * When a failed attempt may be repeated. `repeatable`: doing it twice is harmless (hanging up or
 * rejecting a call that already is), so any transient failure is retried. `unsent-only`: only
 * when OpenAI cannot have acted on it (connection refused, 429, 503), since a second accept or
 * REFER after one that did land would fail or transfer the caller twice.
 */
type RetryPolicy = 'repeatable' | 'unsent-only';

/** Network errors raised before the request reached OpenAI. */
const UNSENT_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * OpenAI's Realtime calls API for SIP calls: `POST {base}/realtime/calls/{id}/accept | reject |
 * refer | hangup`, Bearer auth, 2xx with an empty body on success. On `fetch` rather than the
 * `openai` package, whose current line declares Node >= 22 (this service runs on Node 20 too).
 * Each attempt times out after CALLS_API_TIMEOUT_MS; retries are bounded by CALLS_API_BACKOFF_MS
 * and limited to failures the request's RetryPolicy says are safe to repeat.
 */
@Injectable()
export class OpenAICallsClient {
  private readonly log = new Logger('OpenAICalls');

  constructor(@Inject(openaiConfig.KEY) private readonly openai: OpenAIConfig) {}

  /** Answers the call, configuring its Realtime session (`type: "realtime"`, ...). */
  accept(callId: string, session: Record<string, unknown>): Promise<void> {
    return this.post(callId, 'accept', session, 'unsent-only');
  }

  /** Declines the call with a SIP status (486 busy, 603 decline, ...). */
  reject(callId: string, statusCode: number): Promise<void> {
    return this.post(callId, 'reject', { status_code: statusCode }, 'repeatable');
  }

  /** Transfers the call (SIP REFER) to `tel:+1...` or `sip:...`. */
  refer(callId: string, targetUri: string): Promise<void> {
    return this.post(callId, 'refer', { target_uri: targetUri }, 'unsent-only');
  }

  hangup(callId: string): Promise<void> {
    return this.post(callId, 'hangup', undefined, 'repeatable');
  }

  private async post(
    callId: string,
    action: 'accept' | 'reject' | 'refer' | 'hangup',
    body: Record<string, unknown> | undefined,
    policy: RetryPolicy,
  ): Promise<void> {
    // Checked at the webhook already; checked again because the id becomes part of a URL.
    if (!CALL_ID_PATTERN.test(callId)) throw new OpenAICallsApiError(`malformed call id`);
    const url = `${this.openai.apiBaseUrl}/realtime/calls/${encodeURIComponent(callId)}/${action}`;
    let lastError = new OpenAICallsApiError(`${action} was not attempted`);
    for (const [attempt, wait] of CALLS_API_BACKOFF_MS.entries()) {
      if (wait > 0) await delay(wait);
      const outcome = await this.attempt(url, body);
      if (outcome.ok) return;
      lastError = new OpenAICallsApiError(`${action} ${callId}: ${outcome.detail}`, outcome.status);
      const retry =
        outcome.transient === 'unsent' ||
        (outcome.transient === 'maybe' && policy === 'repeatable');
      if (!retry || attempt === CALLS_API_BACKOFF_MS.length - 1) break;
      this.log.warn(`${lastError.message}; retrying`);
    }
    throw lastError;
  }

  private async attempt(
    url: string,
    body: Record<string, unknown> | undefined,
  ): Promise<
    | { ok: true }
    | { ok: false; status?: number; detail: string; transient: 'unsent' | 'maybe' | false }
  > {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.openai.apiKey.reveal()}`,
          accept: '*/*',
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(CALLS_API_TIMEOUT_MS),
      });
    } catch (error) {
      const err = error as Error & { cause?: { code?: string; message?: string } };
      const code = err.cause?.code;
      if (err.name === 'TimeoutError') {
        return {
          ok: false,
          detail: `no answer within ${CALLS_API_TIMEOUT_MS} ms`,
          transient: 'maybe',
        };
      }
      return {
        ok: false,
        detail: `request failed (${code ?? err.cause?.message ?? err.message})`,
        transient: code && UNSENT_ERRORS.has(code) ? 'unsent' : 'maybe',
      };
    }
    // The body is drained either way so the connection can be reused.
    const text = await response.text().catch(() => '');
    if (response.ok) return { ok: true };
    const status = response.status;
    // OpenAI masks keys in its errors; a proxy in between might not: never log ours.
    const said = text.split(this.openai.apiKey.reveal()).join('[redacted]');
    return {
      ok: false,
      status,
      detail: `HTTP ${status} ${said.slice(0, CALLS_API_MAX_ERROR_CHARS)}`.trim(),
      // 429 and 503 say the request was not taken; other 5xx may have been acted on.
      transient: status === 429 || status === 503 ? 'unsent' : status >= 500 ? 'maybe' : false,
    };
  }
}
