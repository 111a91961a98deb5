import type { DynamicModule } from '@nestjs/common';
import { CallControlApiModule } from './call-control/call-control-api.module.js';
import type { ResolvedSurfaces, Surface } from './config/bridge-options.js';
import { ConsoleModule } from './console/console.module.js';
import { HealthModule } from './health/health.module.js';
import { HistoryApiModule } from './history/history-api.module.js';
import { CallsModule } from './live-calls/calls.module.js';
import { MetricsEndpointModule } from './metrics/metrics-endpoint.module.js';
import { SipWebhookModule } from './sip-call/sip-webhook.module.js';
import { StreamStatusModule } from './twilio/stream-status.module.js';
import { ConsoleRecordingModule } from './recording/console-recording.module.js';
import { RecordingApiModule } from './recording/recording-api.module.js';

type Imports = NonNullable<DynamicModule['imports']>;

/**
 * Each surface's modules: its controllers and whatever runs only for them (the console's
 * samplers, the SSE followers' sweeper). A surface switched off is not imported at all, so its
 * routes fall through to the host application's own handling (404 by default).
 */
const SURFACE_MODULES: Record<Surface, Imports> = {
  console: [ConsoleModule, ConsoleRecordingModule],
  callControl: [CallControlApiModule, CallsModule, HistoryApiModule, RecordingApiModule],
  metrics: [MetricsEndpointModule],
  health: [HealthModule],
  sipWebhook: [SipWebhookModule],
  statusCallback: [StreamStatusModule],
};

export function surfaceModules(surfaces: ResolvedSurfaces): Imports {
  return (Object.keys(SURFACE_MODULES) as Surface[]).flatMap((surface) =>
    surfaces[surface] ? SURFACE_MODULES[surface] : [],
  );
}
