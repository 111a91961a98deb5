import { Module } from '@nestjs/common';
import { BridgeHttpModule } from '../http/bridge-http.module.js';
import { UpgradeRouter } from './upgrade-router.service.js';

/** The application's one UpgradeRouter: every WebSocket route of the bridge registers here. */
@Module({
  imports: [BridgeHttpModule],
  providers: [UpgradeRouter],
  exports: [UpgradeRouter],
})
export class UpgradeRouterModule {}
