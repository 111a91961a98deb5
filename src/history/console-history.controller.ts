import {
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ConsoleAuthGuard } from '../console/console-auth.guard.js';
import { requireJson } from '../console/require-json.js';
import { HistoryRoutes } from './history-routes.js';
import { HistoryService } from './history.service.js';

/**
 * The history for the console (its cookie is scoped to /console): the API's routes under
 * /console/api/history. The erasure is a mutation: JSON only, as every console mutation.
 */
@ApiExcludeController()
@Controller('console/api/history')
@UseGuards(ConsoleAuthGuard)
export class ConsoleHistoryController {
  private readonly routes: HistoryRoutes;

  constructor(history: HistoryService) {
    this.routes = new HistoryRoutes(history);
  }

  @Get()
  list(@Query() query: Record<string, unknown>, @Res({ passthrough: true }) res: Response) {
    return this.routes.list(query, res);
  }

  @Get(':callSid')
  get(@Param('callSid') callSid: string) {
    return this.routes.get(callSid);
  }

  @Delete(':callSid')
  @HttpCode(204)
  async erase(@Param('callSid') callSid: string, @Req() req: Request): Promise<void> {
    requireJson(req);
    await this.routes.erase(callSid);
  }
}
