import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { useTwilioBridge } from 'twilio-realtime-bridge';
import { AppModule } from './app.module.js';

const app = await NestFactory.create(AppModule);
app.enableShutdownHooks();
useTwilioBridge(app);
await app.listen(Number(process.env.PORT ?? 3000));
