import { azureModelsUrl } from './azure-openai.js';
import { openaiConfig } from './config.namespaces.js';
import { ConfigValidationError, parseEnv } from './env.schema.js';
import { TEST_AZURE_OPENAI_API_KEY, TEST_TWILIO_AUTH_TOKEN } from '../../test/support/secrets.js';

const twilio = { TWILIO_AUTH_TOKEN: TEST_TWILIO_AUTH_TOKEN };
const azureKey = {
  ...twilio,
  AZURE_OPENAI_ENDPOINT: 'https://contoso-voice.openai.azure.com/',
  AZURE_OPENAI_API_KEY: TEST_AZURE_OPENAI_API_KEY,
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseEnv(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  return [];
}

const openai = (env: Record<string, string>) => openaiConfig.build(parseEnv(env));

describe('Azure OpenAI configuration', () => {
  it('outside Azure mode keeps OpenAI: its default URL, no azure part', () => {
    const config = openai({ ...twilio, OPENAI_API_KEY: 'sk-proj-real' });
    expect(config.realtimeUrl).toBe('wss://api.openai.com/v1/realtime');
    expect(config.azure).toBeUndefined();
  });

  it('derives the Realtime URL from the endpoint and defaults the deployment to the model', () => {
    const config = openai(azureKey);
    expect(config.realtimeUrl).toBe('wss://contoso-voice.openai.azure.com/openai/v1/realtime');
    expect(config.azure).toMatchObject({
      endpoint: 'https://contoso-voice.openai.azure.com',
      deployment: 'gpt-realtime',
      auth: 'key',
    });
    expect(config.azure?.apiKey?.reveal()).toBe(TEST_AZURE_OPENAI_API_KEY);
    expect(
      openai({ ...azureKey, OPENAI_REALTIME_MODEL: 'gpt-realtime-mini' }).azure?.deployment,
    ).toBe('gpt-realtime-mini');
    expect(openai({ ...azureKey, AZURE_OPENAI_DEPLOYMENT: 'voice-prod' }).azure?.deployment).toBe(
      'voice-prod',
    );
  });

  it('maps http to ws and keeps a path prefix', () => {
    const config = openai({ ...azureKey, AZURE_OPENAI_ENDPOINT: 'http://127.0.0.1:9100/gw/' });
    expect(config.realtimeUrl).toBe('ws://127.0.0.1:9100/gw/openai/v1/realtime');
  });

  it('strips a trailing /openai or /openai/v1 copied with the endpoint, for every URL', () => {
    for (const endpoint of [
      'https://contoso-voice.openai.azure.com/openai',
      'https://contoso-voice.openai.azure.com/openai/',
      'https://contoso-voice.openai.azure.com/openai/v1',
      'https://contoso-voice.openai.azure.com/openai/v1/',
      'https://contoso-voice.openai.azure.com/OpenAI/v1//',
    ]) {
      const config = openai({ ...azureKey, AZURE_OPENAI_ENDPOINT: endpoint });
      expect(config.azure?.endpoint).toBe('https://contoso-voice.openai.azure.com');
      expect(config.realtimeUrl).toBe('wss://contoso-voice.openai.azure.com/openai/v1/realtime');
      expect(config.apiBaseUrl).toBe('https://contoso-voice.openai.azure.com/openai/v1');
      expect(azureModelsUrl(config.azure!.endpoint)).toBe(
        'https://contoso-voice.openai.azure.com/openai/v1/models',
      );
    }
    // A gateway's own prefix is kept; only the API's path at its end goes.
    const gateway = openai({
      ...azureKey,
      AZURE_OPENAI_ENDPOINT: 'https://gw.example.com/azure/openai/v1',
    });
    expect(gateway.realtimeUrl).toBe('wss://gw.example.com/azure/openai/v1/realtime');
  });

  it('uses an explicit OPENAI_REALTIME_URL as written', () => {
    const config = openai({ ...azureKey, OPENAI_REALTIME_URL: 'wss://gateway.example.com/rt' });
    expect(config.realtimeUrl).toBe('wss://gateway.example.com/rt');
  });

  it('refuses an OPENAI_REALTIME_URL at OpenAI in Azure mode, in one line', () => {
    for (const url of ['wss://api.openai.com/v1/realtime', 'wss://API.OpenAI.com/v1/realtime']) {
      expect(problemsOf({ ...azureKey, OPENAI_REALTIME_URL: url })).toEqual([
        expect.stringMatching(/^OPENAI_REALTIME_URL: points at OpenAI while AZURE_OPENAI_ENDPOINT/),
      ]);
    }
  });

  it('refuses an OpenAI URL written with a trailing dot (a fully qualified name) in Azure mode', () => {
    expect(
      problemsOf({ ...azureKey, OPENAI_REALTIME_URL: 'wss://api.openai.com./v1/realtime' }),
    ).toEqual([expect.stringMatching(/^OPENAI_REALTIME_URL: points at OpenAI/)]);
    expect(problemsOf({ ...azureKey, OPENAI_API_BASE_URL: 'https://API.openai.com../v1' })).toEqual(
      [expect.stringMatching(/^OPENAI_API_BASE_URL: points at OpenAI/)],
    );
  });

  it('refuses a plain http endpoint off the machine: the credential would travel in cleartext', () => {
    expect(
      problemsOf({ ...azureKey, AZURE_OPENAI_ENDPOINT: 'http://contoso-voice.openai.azure.com' }),
    ).toEqual([
      'AZURE_OPENAI_ENDPOINT: is plain http/ws to another machine, which would send the Azure credential in cleartext; use https/wss (plain is taken for 127.0.0.1, ::1 and localhost only)',
    ]);
    expect(
      problemsOf({ ...azureKey, OPENAI_REALTIME_URL: 'ws://gateway.internal/openai/v1/realtime' }),
    ).toEqual([
      expect.stringMatching(/^OPENAI_REALTIME_URL: is plain http\/ws to another machine/),
    ]);
    expect(problemsOf({ ...azureKey, OPENAI_API_BASE_URL: 'http://10.0.0.5/openai/v1' })).toEqual([
      expect.stringMatching(/^OPENAI_API_BASE_URL: is plain http\/ws to another machine/),
    ]);
    for (const loopback of [
      'http://127.0.0.1:9100',
      'http://[::1]:9100',
      'http://localhost:9100',
      'http://LOCALHOST.:9100',
    ]) {
      expect(problemsOf({ ...azureKey, AZURE_OPENAI_ENDPOINT: loopback })).toEqual([]);
    }
  });

  it("refuses OpenAI URLs at an Azure resource outside Azure mode: OpenAI's key must not go there", () => {
    const openaiMode = { ...twilio, OPENAI_API_KEY: 'sk-proj-real' };
    for (const url of [
      'wss://contoso.openai.azure.com/openai/v1/realtime',
      'wss://contoso.cognitiveservices.azure.com/openai/v1/realtime',
      'wss://contoso.services.ai.azure.com./openai/v1/realtime',
      'wss://contoso.openai.azure.us/openai/v1/realtime',
    ]) {
      expect(problemsOf({ ...openaiMode, OPENAI_REALTIME_URL: url })).toEqual([
        expect.stringMatching(
          /^OPENAI_REALTIME_URL: points at an Azure OpenAI resource while AZURE_OPENAI_ENDPOINT is not set;.*set AZURE_OPENAI_ENDPOINT/,
        ),
      ]);
    }
    expect(
      problemsOf({
        ...openaiMode,
        OPENAI_API_BASE_URL: 'https://contoso.openai.azure.com/openai/v1',
      }),
    ).toEqual([expect.stringMatching(/^OPENAI_API_BASE_URL: points at an Azure OpenAI resource/)]);
    expect(
      problemsOf({ ...openaiMode, OPENAI_REALTIME_URL: 'wss://openai.azure.com.example.net/rt' }),
    ).toEqual([]);
  });

  it('neither requires nor checks OPENAI_API_KEY in Azure mode', () => {
    expect(problemsOf(azureKey)).toEqual([]);
    expect(problemsOf({ ...azureKey, OPENAI_API_KEY: 'sk-...' })).toEqual([]);
  });

  it('takes Microsoft Entra ID instead of a key', () => {
    const { AZURE_OPENAI_API_KEY: _, ...endpoint } = azureKey;
    const config = openai({ ...endpoint, AZURE_OPENAI_AUTH: 'entra' });
    expect(config.azure).toMatchObject({ auth: 'entra', apiKey: undefined });
  });

  it('asks for the Azure AI scope by default, and for AZURE_OPENAI_TOKEN_SCOPE when set', () => {
    const { AZURE_OPENAI_API_KEY: _, ...endpoint } = azureKey;
    const entra = { ...endpoint, AZURE_OPENAI_AUTH: 'entra' };
    expect(openai(entra).azure?.tokenScope).toBe('https://ai.azure.com/.default');
    expect(openai(azureKey).azure?.tokenScope).toBe('https://ai.azure.com/.default');
    for (const scope of [
      'https://cognitiveservices.azure.com/.default',
      'https://cognitiveservices.azure.us/.default',
    ]) {
      expect(openai({ ...entra, AZURE_OPENAI_TOKEN_SCOPE: scope }).azure?.tokenScope).toBe(scope);
    }
  });

  it('refuses a scope that is not an https URL ending in /.default, or one without Entra ID', () => {
    const { AZURE_OPENAI_API_KEY: _, ...endpoint } = azureKey;
    const entra = { ...endpoint, AZURE_OPENAI_AUTH: 'entra' };
    for (const scope of [
      'cognitiveservices.azure.com',
      'http://cognitiveservices.azure.com/.default',
      'https://cognitiveservices.azure.com',
      'https://cognitiveservices.azure.com/user_impersonation',
    ]) {
      expect(problemsOf({ ...entra, AZURE_OPENAI_TOKEN_SCOPE: scope })).toEqual([
        expect.stringMatching(
          /^AZURE_OPENAI_TOKEN_SCOPE: expected an https URL ending in \/\.default/,
        ),
      ]);
    }
    expect(
      problemsOf({ ...azureKey, AZURE_OPENAI_TOKEN_SCOPE: 'https://ai.azure.com/.default' }),
    ).toEqual([
      'AZURE_OPENAI_TOKEN_SCOPE: is only used with AZURE_OPENAI_AUTH=entra (a key needs no scope)',
    ]);
    expect(
      problemsOf({
        ...twilio,
        OPENAI_API_KEY: 'sk-proj-real',
        AZURE_OPENAI_TOKEN_SCOPE: 'https://ai.azure.com/.default',
      }),
    ).toEqual([
      'AZURE_OPENAI_TOKEN_SCOPE: is only used with AZURE_OPENAI_ENDPOINT, which is not set',
    ]);
  });

  it('says in one line each: an endpoint that is not a URL, both credentials, neither', () => {
    expect(problemsOf({ ...azureKey, AZURE_OPENAI_ENDPOINT: 'contoso-voice' })).toEqual([
      expect.stringMatching(/^AZURE_OPENAI_ENDPOINT: expected a URL/),
    ]);
    expect(problemsOf({ ...azureKey, AZURE_OPENAI_AUTH: 'entra' })).toEqual([
      expect.stringMatching(/^AZURE_OPENAI_API_KEY: set together with AZURE_OPENAI_AUTH=entra/),
    ]);
    const { AZURE_OPENAI_API_KEY: _, ...endpoint } = azureKey;
    expect(problemsOf(endpoint)).toEqual([
      expect.stringMatching(/^AZURE_OPENAI_API_KEY: is required with AZURE_OPENAI_ENDPOINT/),
    ]);
    expect(problemsOf({ ...endpoint, AZURE_OPENAI_AUTH: 'token' })).toEqual([
      expect.stringMatching(/^AZURE_OPENAI_AUTH: expected one of key, entra/),
      expect.stringMatching(/^AZURE_OPENAI_API_KEY: is required/),
    ]);
  });

  it('takes the SIP transport with Azure: the calls API under the endpoint', () => {
    const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    expect(problemsOf({ ...azureKey, OPENAI_WEBHOOK_SECRET: secret })).toEqual([]);
    const config = openai({ ...azureKey, OPENAI_WEBHOOK_SECRET: secret });
    expect(config.webhookSecret?.reveal()).toBe(secret);
    expect(config.apiBaseUrl).toBe('https://contoso-voice.openai.azure.com/openai/v1');
    expect(
      openai({ ...azureKey, AZURE_OPENAI_ENDPOINT: 'http://127.0.0.1:9100/gw/' }).apiBaseUrl,
    ).toBe('http://127.0.0.1:9100/gw/openai/v1');
    expect(
      openai({ ...azureKey, OPENAI_API_BASE_URL: 'https://gateway.example.com/v1' }).apiBaseUrl,
    ).toBe('https://gateway.example.com/v1');
    expect(openai({ ...twilio, OPENAI_API_KEY: 'sk-proj-real' }).apiBaseUrl).toBe(
      'https://api.openai.com/v1',
    );
  });

  it('refuses an OPENAI_API_BASE_URL at OpenAI in Azure mode, in one line', () => {
    expect(problemsOf({ ...azureKey, OPENAI_API_BASE_URL: 'https://api.openai.com/v1' })).toEqual([
      expect.stringMatching(/^OPENAI_API_BASE_URL: points at OpenAI while AZURE_OPENAI_ENDPOINT/),
    ]);
  });

  it('refuses Azure settings without the endpoint, and a placeholder key', () => {
    expect(
      problemsOf({ ...twilio, OPENAI_API_KEY: 'sk-proj-real', AZURE_OPENAI_API_KEY: 'abc' }),
    ).toEqual(['AZURE_OPENAI_API_KEY: is only used with AZURE_OPENAI_ENDPOINT, which is not set']);
    expect(problemsOf({ ...azureKey, AZURE_OPENAI_API_KEY: 'replace-me' })).toEqual([
      expect.stringMatching(/^AZURE_OPENAI_API_KEY: is a placeholder from our examples/),
    ]);
  });

  it('never echoes the Azure key', () => {
    const problems = problemsOf({ ...azureKey, AZURE_OPENAI_AUTH: 'entra', PORT: '-1' });
    expect(problems.join('\n')).not.toContain(TEST_AZURE_OPENAI_API_KEY);
  });
});
