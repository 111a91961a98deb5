import { Controller, Delete, Get, HttpCode, Param, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiTokenGuard } from '../http/api-token.guard.js';
import { HistoryRoutes } from './history-routes.js';
import { HistoryService } from './history.service.js';

/** The call history for applications (docs/call-control-api.md): list, read, erase. */
@ApiTags('history')
@ApiBearerAuth()
@Controller('api/history')
@UseGuards(ApiTokenGuard)
export class HistoryController {
  private readonly routes: HistoryRoutes;

  constructor(history: HistoryService) {
    this.routes = new HistoryRoutes(history);
  }

  @Get()
  @ApiOperation({ summary: 'Ended calls, newest first ({ calls, next }); format=csv for CSV' })
  list(@Query() query: Record<string, unknown>, @Res({ passthrough: true }) res: Response) {
    return this.routes.list(query, res);
  }

  @Get(':callSid')
  @ApiOperation({ summary: 'One ended call with its transcript (as heard) and tool calls' })
  get(@Param('callSid') callSid: string) {
    return this.routes.get(callSid);
  }

  @Delete(':callSid')
  @HttpCode(204)
  @ApiOperation({
    summary:
      'Erase an ended call: its record and its recording (204; 409 while live; retry until 204)',
  })
  async erase(@Param('callSid') callSid: string): Promise<void> {
    await this.routes.erase(callSid);
  }
}
