import type { CallControlConfig, ServerConfig, TwilioConfig } from '../config/config.namespaces.js';
import type { BridgeMount } from '../http/bridge-mount.service.js';
import type { ToolRegistry } from '../tools/tool-registry.service.js';
import type { TwilioRestService } from '../twilio-rest/twilio-rest.service.js';
import { StreamUrlService } from '../twilio/stream-url.service.js';
import type { TwilioSignatureService } from '../twilio/twilio-signature.service.js';
import type { ProviderCheck } from './provider-check.service.js';
import { SetupChecks } from './setup-checks.service.js';

/** The checklist of a bridge at `publicUrl`, mounted at `mount`; nothing is asked outside. */
function checksFor(publicUrl: string, mount: string): SetupChecks {
  return new SetupChecks(
    { publicUrl, trustProxy: false } as ServerConfig,
    { validateSignatures: true } as TwilioConfig,
    { profiles: {} } as unknown as CallControlConfig,
    { sessionTools: () => [] } as unknown as ToolRegistry,
    { available: false } as TwilioRestService,
    {
      run: () => Promise.resolve({ name: 'openai', title: 'OpenAI', state: 'ok', detail: '' }),
    } as ProviderCheck,
    new StreamUrlService({} as TwilioSignatureService, { path: mount } as BridgeMount),
  );
}

describe('SetupChecks', () => {
  it("names the stream URL Twilio is given: PUBLIC_URL's path (a proxy's prefix), then the mount", async () => {
    const url = 'https://voice.example.com/edge';
    const report = await checksFor(url, '/voice').run(url);
    expect(report.checks.find((check) => check.name === 'public-url')).toMatchObject({
      state: 'ok',
      detail: `${url} (stream at wss://voice.example.com/edge/voice/media-stream)`,
    });
    expect(report.webhookUrl).toBe('https://voice.example.com/edge/voice/api/twiml');
  });
});
