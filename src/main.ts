import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { configureApp } from './app.setup.js';
import { ConfigValidationError, parseEnv } from './config/env.schema.js';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(await AppModule.forRoot(), { bufferLogs: true });
  configureApp(app);
  app.enableShutdownHooks();
  const port = parseEnv(process.env).PORT;
  await app.listen(port);
  new Logger('Bootstrap').log(`twilio-realtime-bridge listening on port ${port}`);
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigValidationError) {
    // The operator's mistake, not a crash: say what is wrong, without a stack trace.
    console.error(error.message);
  } else {
    console.error('Failed to start:', error);
  }
  process.exit(1);
});
