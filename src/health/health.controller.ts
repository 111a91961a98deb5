import { Controller, Get } from '@nestjs/common';
import { CallRegistry } from '../call/call-registry.service.js';

@Controller('health')
export class HealthController {
  constructor(private readonly registry: CallRegistry) {}

  /** Liveness: the process answers, with the number of calls it carries. */
  @Get()
  health(): { status: 'ok'; activeCalls: number } {
    return { status: 'ok', activeCalls: this.registry.activeCalls };
  }
}
