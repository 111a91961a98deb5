import { Controller, Get, Inject, Req, Res, UnauthorizedException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { serverConfig } from '../config/config.namespaces.js';
import type { ServerConfig } from '../config/config.namespaces.js';
import { BridgeMetrics } from './bridge-metrics.service.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: BridgeMetrics,
    @Inject(serverConfig.KEY) private readonly server: ServerConfig,
  ) {}

  /** Prometheus exposition. With METRICS_TOKEN set it needs `Authorization: Bearer <token>`. */
  @Get()
  async scrape(@Req() req: Request, @Res() res: Response): Promise<void> {
    const token = this.server.metricsToken;
    if (token) {
      const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      if (!timingSafeEqual(digest(given), digest(token.reveal())))
        throw new UnauthorizedException();
    }
    res.setHeader('content-type', this.metrics.registry.contentType);
    res.end(await this.metrics.registry.metrics());
  }
}
