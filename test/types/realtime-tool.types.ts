/**
 * Compile-time checks of the public API, compiled by test/public-api.spec.ts (and by `tsc -p
 * tsconfig.json`): every `@ts-expect-error` below must meet an error, and nothing else may fail.
 * Never imported at run time.
 */
import { Injectable } from '@nestjs/common';
import { CallContext, RealtimeTool } from 'twilio-realtime-bridge';
import { z } from 'zod';

const Booking = z.object({
  date: z.iso.date().transform((day) => new Date(day)),
  guests: z.number().int(),
  note: z.string().optional(),
});

@Injectable()
export class WellTyped {
  @RealtimeTool({ name: 'a', description: 'd', parameters: Booking })
  inferred(args: z.infer<typeof Booking>, call: CallContext) {
    // The handler sees the schema's output: a Date, not the string the model sent.
    return { day: args.date.getUTCDay(), guests: args.guests + 1, sid: call.callSid };
  }

  @RealtimeTool({ name: 'b', description: 'd', parameters: Booking })
  async spelledOut({ date, note }: { date: Date; guests: number; note?: string }) {
    return Promise.resolve(`${date.toISOString()} ${note ?? ''}`);
  }

  @RealtimeTool({ name: 'c', description: 'd', parameters: Booking })
  fewerFields({ guests }: { guests: number }) {
    return guests;
  }

  @RealtimeTool({ name: 'd', description: 'd' })
  noParameters(_args: Record<string, unknown>, call: CallContext) {
    return call.transcript.length;
  }

  @RealtimeTool({
    name: 'e',
    description: 'd',
    parameters: { type: 'object', properties: { id: { type: 'string' } } },
  })
  rawJsonSchema(args: Record<string, unknown>) {
    return typeof args.id === 'string' ? args.id : null;
  }
}

@Injectable()
export class IllTyped {
  // @ts-expect-error the schema gives `guests` as a number
  @RealtimeTool({ name: 'f', description: 'd', parameters: Booking })
  wrongFieldType({ guests }: { guests: string }) {
    return guests;
  }

  // @ts-expect-error the schema gives `date` as a Date (its output), not the input string
  @RealtimeTool({ name: 'g', description: 'd', parameters: Booking })
  inputInsteadOfOutput({ date }: { date: string }) {
    return date;
  }

  // @ts-expect-error `table` is not in the schema
  @RealtimeTool({ name: 'h', description: 'd', parameters: Booking })
  fieldTheSchemaLacks({ table }: { table: number; guests: number }) {
    return table;
  }

  // @ts-expect-error the second argument is the CallContext
  @RealtimeTool({ name: 'i', description: 'd', parameters: Booking })
  wrongSecondArgument(_args: z.infer<typeof Booking>, sid: string) {
    return sid;
  }

  // @ts-expect-error a raw JSON Schema's arguments are unchecked: the handler cannot assume fields
  @RealtimeTool({ name: 'j', description: 'd', parameters: { type: 'object' } })
  rawSchemaAssumed({ id }: { id: string }) {
    return id;
  }

  // @ts-expect-error (and so no handler fits)
  @RealtimeTool({
    name: 'k',
    description: 'd',
    // @ts-expect-error the arguments are one object: a string schema is not parameters
    parameters: z.string(),
  })
  notAnObject(text: string) {
    return text;
  }
}

export function callContextInternalsAreNotPublic(call: CallContext): void {
  // @ts-expect-error the call's scope (and its owner) is the bridge's business
  void call.scope;
  // @ts-expect-error the DI context id is the bridge's business
  void call.contextId;
  // @ts-expect-error CallContext is an interface (an abstract class, for the DI token)
  void new CallContext();
}
