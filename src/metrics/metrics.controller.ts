import { Controller, Get, Inject, Req, Res, UnauthorizedException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { bearerTokenMatches } from '../http/bearer-token.js';
import { serverConfig } from '../config/config.namespaces.js';
import type { ServerConfig } from '../config/config.namespaces.js';
import { BridgeMetrics } from './bridge-metrics.service.js';

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
    if (token && !bearerTokenMatches(req.headers.authorization, token)) {
      throw new UnauthorizedException();
    }
    res.setHeader('content-type', this.metrics.registry.contentType);
    res.end(await this.metrics.registry.metrics());
  }
}
