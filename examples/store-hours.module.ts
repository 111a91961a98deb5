import { Injectable, Logger, Module, Scope } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { CallContext, CallEvent, RealtimeTool, type CallEndedEvent } from 'twilio-realtime-bridge';
import { z } from 'zod';

const HOURS: Record<string, string> = { saturday: '10:00-16:00', sunday: 'closed' };

const StoreHoursArgs = z.object({
  day: z.string().describe('A day of the week, e.g. "monday"'),
});

/** Per call: created once for the call that first asks, with that call's context injected. */
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
    parameters: StoreHoursArgs,
  })
  async hours({ day }: z.infer<typeof StoreHoursArgs>, call: CallContext) {
    const caller = await call.resolve(CallerGreeting);
    return { day, hours: HOURS[day.toLowerCase()] ?? '09:00-18:00', greet: caller.name };
  }

  @OnEvent(CallEvent.Ended)
  record(call: CallEndedEvent): void {
    this.log.log(
      `${call.callSid}: ${call.durationS.toFixed(0)} s, ${call.usage.totalTokens} tokens`,
    );
  }
}

/** The whole extension: import it next to the bridge (see README, "Extending the bridge"). */
@Module({ providers: [StoreHours, CallerGreeting] })
export class StoreHoursModule {}
