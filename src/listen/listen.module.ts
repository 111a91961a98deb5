import { Module } from '@nestjs/common';
import { CallAudioModule } from '../call-audio/call-audio.module.js';
import { CallModule } from '../call/call.module.js';
import { ConsoleSessionsModule } from '../console/console-sessions.module.js';
import { ListenAccess } from './listen-access.js';
import { ListenHub } from './listen-hub.service.js';
import { ListenRelayClient } from './listen-relay-client.service.js';
import { ListenRelayHost } from './listen-relay-host.service.js';
import { ListenUpgrade } from './listen-upgrade.js';
import { UpgradeRouterModule } from '../websocket/upgrade-router.module.js';

/**
 * Listen-in and takeover: `GET /api/calls/:callSid/listen` (and the console's
 * `/console/api/calls/:callSid/listen`), a WebSocket on which an operator hears a live media
 * call and may take its line from the assistant.
 */
@Module({
  imports: [CallModule, CallAudioModule, ConsoleSessionsModule, UpgradeRouterModule],
  providers: [ListenAccess, ListenHub, ListenRelayClient, ListenRelayHost, ListenUpgrade],
})
export class ListenModule {}
