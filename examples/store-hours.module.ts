import { Injectable, Logger, Module, Scope } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { CallContext, CallEvent, RealtimeTool, type CallEndedEvent } from 'twilio-realtime-bridge';
import { z } from 'zod';

const HOURS: Record<string, string> = { saturday: '10:00-16:00', sunday: 'closed' };
const StoreHoursArgs = z.object({ day: z.string().describe('A day of the week, e.g. "monday"') });

/** Per call: created for the call that first asks for it, with that call's context injected. */
@Injectable({ scope: Scope.REQUEST })
export class CallerGreeting {
  constructor(private readonly call: CallContext) {}
  get name(): string {
    return this.call.from === '+15550001111' ? 'Ada' : 'there';
  }
}

@Injectable()
export class StoreHours {
  private readonly log = new Logger(StoreHours.name);

  @RealtimeTool({
    name: 'get_store_hours',
    description: 'Opening hours of the store on a given day of the week.',
    parameters: StoreHoursArgs, // the model sees its JSON Schema; arguments are checked
  })
  async hours({ day }: z.infer<typeof StoreHoursArgs>, call: CallContext) {
    const caller = await call.resolve(CallerGreeting);
    return { day, hours: HOURS[day.toLowerCase()] ?? '09:00-18:00', greet: caller.name };
  }

  @OnEvent(CallEvent.Ended)
  record({ callSid, durationS, usage }: CallEndedEvent): void {
    this.log.log(`${callSid}: ${durationS.toFixed(0)} s, ${usage.totalTokens} tokens`);
  }
}

@Module({ providers: [StoreHours, CallerGreeting] })
export class StoreHoursModule {}
