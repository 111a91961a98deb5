import { Module } from '@nestjs/common';
import { HistoryController } from './history.controller.js';
import { HistoryModule } from './history.module.js';

/** `GET/DELETE /api/history...`: part of the call-control API surface. */
@Module({ imports: [HistoryModule], controllers: [HistoryController] })
export class HistoryApiModule {}
