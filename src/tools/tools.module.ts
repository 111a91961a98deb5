import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CallControlModule } from '../call-control/call-control.module.js';
import { TwilioRestModule } from '../twilio-rest/twilio-rest.module.js';
import { CallControlTools } from './call-control.tools.js';
import { ToolRegistry } from './tool-registry.service.js';
import { ToolExplorer } from './tool.explorer.js';

/** Global so the per-call sessions and any feature module can reach the one registry. */
@Global()
@Module({
  imports: [DiscoveryModule, CallControlModule, TwilioRestModule],
  providers: [ToolRegistry, ToolExplorer, CallControlTools],
  exports: [ToolRegistry],
})
export class ToolsModule {}
