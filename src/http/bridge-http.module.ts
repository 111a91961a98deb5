import { Module } from '@nestjs/common';
import { BridgeHttpSetup } from './bridge-http.setup.js';
import { BridgeMount } from './bridge-mount.service.js';
import { StartupWarnings } from './startup-warnings.service.js';

/** Where the bridge is mounted, what it needs of the application's HTTP server, start-up warnings. */
@Module({
  providers: [BridgeMount, BridgeHttpSetup, StartupWarnings],
  exports: [BridgeMount],
})
export class BridgeHttpModule {}
