import { Controller, Get } from '@nestjs/common';

/** One of the team's own REST routes. */
@Controller('status')
export class StatusController {
  @Get()
  status(): { service: string; ok: boolean } {
    return { service: 'host-app', ok: true };
  }
}
