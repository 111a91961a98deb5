import { Module } from '@nestjs/common';
import { CallModule } from '../call/call.module.js';
import { HealthController } from './health.controller.js';

@Module({ imports: [CallModule], controllers: [HealthController] })
export class HealthModule {}
