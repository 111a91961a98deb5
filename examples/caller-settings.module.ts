import { Injectable, Module } from '@nestjs/common';
import {
  CALL_SETTINGS_RESOLVER,
  type CallDescription,
  type CallSettingsChoice,
  type CallSettingsResolver,
} from 'twilio-realtime-bridge';

interface Customer {
  name: string;
  vip: boolean;
}

/** Stands in for a CRM client: an async lookup by phone number. */
@Injectable()
export class Crm {
  private readonly customers = new Map<string, Customer>([
    ['+15550009999', { name: 'Grace', vip: true }],
  ]);

  async findByNumber(number: string | undefined): Promise<Customer | undefined> {
    await new Promise((resolve) => setTimeout(resolve, 10));
    return number === undefined ? undefined : this.customers.get(number);
  }
}

@Injectable()
export class CallerSettings implements CallSettingsResolver {
  constructor(private readonly crm: Crm) {}

  async resolve(call: CallDescription): Promise<Partial<CallSettingsChoice> | undefined> {
    const customer = await this.crm.findByNumber(call.from);
    if (!customer?.vip) return undefined; // the defaults
    return {
      voice: 'marin',
      instructions: `${call.defaults.instructions} The caller is ${customer.name}, a VIP.`,
      tools: ['end_call'],
    };
  }
}

@Module({
  providers: [
    Crm,
    CallerSettings,
    { provide: CALL_SETTINGS_RESOLVER, useExisting: CallerSettings },
  ],
})
export class CallerSettingsModule {}
