import { Injectable, Module } from '@nestjs/common';
import { z } from 'zod';
import { CallContext, RealtimeTool } from '../../src/index.js';

// The demo's tool, so the demo model's function call runs through the bridge's real tool path.
// (examples/ import the package by its name, which at run time is dist/; the demo runs from
// source without a build, so it carries its own small module.)
const HOURS: Record<string, string> = { saturday: '10:00-16:00', sunday: 'closed' };

const StoreHoursArgs = z.object({ day: z.string().describe('A day of the week, e.g. "monday"') });

@Injectable()
export class DemoStoreHours {
  @RealtimeTool({
    name: 'get_store_hours',
    description: 'Opening hours of the store on a given day of the week.',
    parameters: StoreHoursArgs,
  })
  hours({ day }: z.infer<typeof StoreHoursArgs>, call: CallContext) {
    return { day, hours: HOURS[day.toLowerCase()] ?? '09:00-18:00', caller: call.from };
  }
}

@Module({ providers: [DemoStoreHours] })
export class DemoToolsModule {}
