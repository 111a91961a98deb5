import type { ModuleRef } from '@nestjs/core';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { openaiConfig } from '../config/config.namespaces.js';
import { parseEnv } from '../config/env.schema.js';
import { TEST_AZURE_OPENAI_API_KEY, TEST_TWILIO_AUTH_TOKEN } from '../../test/support/secrets.js';
import { RealtimeCredentials } from './realtime-credentials.service.js';

const endpoint = {
  TWILIO_AUTH_TOKEN: TEST_TWILIO_AUTH_TOKEN,
  AZURE_OPENAI_ENDPOINT: 'https://contoso-voice.openai.azure.com',
};

/** Issues entra-1, entra-2, ... each valid for an hour. */
class IssuingCredential implements TokenCredential {
  issued = 0;
  getToken(): Promise<AccessToken> {
    this.issued++;
    return Promise.resolve({
      token: `entra-${this.issued}`,
      expiresOnTimestamp: Date.now() + 3_600_000,
    });
  }
}

function credentials(env: Record<string, string>, credential = new IssuingCredential()) {
  const moduleRef = { get: () => credential } as unknown as ModuleRef;
  return new RealtimeCredentials(openaiConfig.build(parseEnv({ ...endpoint, ...env })), moduleRef);
}

describe('RealtimeCredentials', () => {
  it('tells a key refused apart from an Entra ID token refused for its audience or tenant (401) or its role (403)', () => {
    const key = credentials({ AZURE_OPENAI_API_KEY: TEST_AZURE_OPENAI_API_KEY });
    expect(key.refusedHint(401)).toBe('check AZURE_OPENAI_API_KEY');
    const entra = credentials({
      AZURE_OPENAI_AUTH: 'entra',
      AZURE_OPENAI_TOKEN_SCOPE: 'https://cognitiveservices.azure.us/.default',
    });
    expect(entra.refused(401)).toMatch(
      /^Azure OpenAI rejected the Entra ID token \(HTTP 401\); check the token's audience \(AZURE_OPENAI_TOKEN_SCOPE, now https:\/\/cognitiveservices\.azure\.us\/\.default;.*\) and that the identity belongs to the resource's tenant \(AZURE_TENANT_ID\)$/,
    );
    expect(entra.refusedHint(403)).toBe(
      "check that the bridge's identity has the role Cognitive Services OpenAI User on the resource",
    );
  });

  it('drops an Entra ID token Azure refused with 401, so the next headers carry another', async () => {
    const credential = new IssuingCredential();
    const entra = credentials({ AZURE_OPENAI_AUTH: 'entra' }, credential);
    const first = await entra.headers();
    expect(first).toEqual({ Authorization: 'Bearer entra-1' });
    // 403 is the role, not the token: a new token would not help.
    expect(entra.renewsRefused(403, first)).toBe(false);
    expect(await entra.headers()).toEqual(first);
    expect(entra.renewsRefused(401, first)).toBe(true);
    expect(await entra.headers()).toEqual({ Authorization: 'Bearer entra-2' });
    expect(credential.issued).toBe(2);
  });

  it('never renews a refused key', async () => {
    const key = credentials({ AZURE_OPENAI_API_KEY: TEST_AZURE_OPENAI_API_KEY });
    expect(key.renewsRefused(401, await key.headers())).toBe(false);
  });
});
