import 'reflect-metadata';
import { bootstrapBridge } from './bootstrap.js';

// Everything a service needs (config, handlers, drain, the listening line) lives in
// bootstrapBridge, so a team's own main.ts that adds modules runs exactly the same service.
await bootstrapBridge();
