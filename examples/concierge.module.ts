import { Injectable, Logger, Module, Scope, type DynamicModule } from '@nestjs/common';
import {
  CALL_SETTINGS_RESOLVER,
  CallContext,
  RealtimeTool,
  TwilioBridgeModule,
  type BridgeSettings,
  type CallDescription,
  type CallSettingsChoice,
  type CallSettingsResolver,
} from 'twilio-realtime-bridge';
import { z } from 'zod';

const Reservation = z.object({
  time: z.iso.time({ precision: -1 }).describe('Tonight, as HH:MM (24 h)'),
  guests: z.number().int().min(1).max(8).describe('How many people, 1 to 8'),
});

/** Per call: the reservation this caller made, if any. One instance per call, dropped with it. */
@Injectable({ scope: Scope.REQUEST })
export class Concierge {
  private readonly log = new Logger(Concierge.name);
  private reservation?: z.infer<typeof Reservation>;
  private made = 0;

  constructor(private readonly call: CallContext) {
    this.log.log(`concierge for call ${call.callSid}`);
  }

  @RealtimeTool({
    name: 'reserve_table',
    description: 'Reserve a table for tonight. Ask for the time and the number of guests first.',
    parameters: Reservation,
  })
  reserve(reservation: z.infer<typeof Reservation>) {
    const { time, guests } = reservation;
    this.reservation = reservation;
    // From now on the model helps with this reservation: it can cancel it, not book another.
    this.call.updateSession({
      instructions: `A table for ${guests} at ${time} is reserved. Help with it; offer to cancel.`,
      tools: ['cancel_reservation', 'end_call'],
    });
    this.call.say(`Done: a table for ${guests} at ${time} tonight.`);
    return { ok: true, reference: `${this.call.callSid.slice(-4)}-${++this.made}` };
  }

  @RealtimeTool({
    name: 'cancel_reservation',
    description: 'Cancel the table reserved on this call.',
  })
  cancel() {
    if (!this.reservation) return { ok: false, reason: 'Nothing is reserved on this call.' };
    const { time } = this.reservation;
    this.reservation = undefined;
    this.call.updateSession({ tools: ['reserve_table', 'end_call'] });
    return { ok: true, cancelled: time };
  }
}

/** Members (by the caller's number) may reserve, in a voice of their own; other callers may not. */
@Injectable()
export class MemberSettings implements CallSettingsResolver {
  static readonly members = new Map([
    ['+15550009999', 'Ada'],
    ['+15550008888', 'Grace'],
  ]);

  resolve(call: CallDescription): Partial<CallSettingsChoice> {
    const member = call.from && MemberSettings.members.get(call.from);
    if (!member) return { tools: ['end_call'] };
    return {
      voice: 'marin',
      instructions: `${call.defaults.instructions} The caller is ${member}, a member.`,
      tools: ['reserve_table', 'end_call'],
      turnDetection: { type: 'semantic_vad', eagerness: 'low' },
    };
  }
}

@Module({
  providers: [
    Concierge,
    MemberSettings,
    { provide: CALL_SETTINGS_RESOLVER, useExisting: MemberSettings },
  ],
})
export class ConciergeModule {}

/** The application's own configuration (a ConfigService or a secrets client in a real one). */
export class AppConfig {
  constructor(readonly bridge: BridgeSettings) {}
}

@Module({})
export class AppConfigModule {
  static of(bridge: BridgeSettings): DynamicModule {
    const config = { provide: AppConfig, useValue: new AppConfig(bridge) };
    return { module: AppConfigModule, providers: [config], exports: [AppConfig] };
  }
}

/** An application of its own that runs the bridge, configured from its AppConfig. */
@Module({})
export class ConciergeAppModule {
  static forConfig(bridge: BridgeSettings): DynamicModule {
    return {
      module: ConciergeAppModule,
      imports: [
        TwilioBridgeModule.forRootAsync({
          imports: [AppConfigModule.of(bridge)],
          inject: [AppConfig],
          // Settings alone (no `env`): nothing from process.env, so apps side by side keep
          // their own settings.
          useFactory: (config: AppConfig) => config.bridge,
        }),
        ConciergeModule,
      ],
    };
  }
}
