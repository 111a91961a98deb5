import { Injectable, Module } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import {
  CallEvent,
  RealtimeTool,
  type CallContext,
  type CallEndedEvent,
} from 'twilio-realtime-bridge';
import { z } from 'zod';

const OrderStatusArgs = z.object({
  orderId: z
    .string()
    .regex(/^A\d{4}$/)
    .describe('The order number, e.g. "A1234"'),
});

/** The team's order system, as far as this example needs one. */
const ORDERS: Record<string, string> = { A1234: 'shipped', A5678: 'being packed' };

/** The tool the team adds: the model looks an order up while the caller waits. */
@Injectable()
export class OrderStatusTool {
  /** Calls that ended, as the team's own @OnEvent handler saw them. */
  readonly endedCalls: string[] = [];

  @RealtimeTool({
    name: 'get_order_status',
    description: "Where a caller's order is: shipped, being packed, or unknown.",
    parameters: OrderStatusArgs,
  })
  status({ orderId }: z.infer<typeof OrderStatusArgs>, call: CallContext) {
    return { orderId, status: ORDERS[orderId] ?? 'unknown', caller: call.from ?? 'unknown' };
  }

  @OnEvent(CallEvent.Ended)
  ended(event: CallEndedEvent): void {
    this.endedCalls.push(event.callSid);
  }
}

@Module({ providers: [OrderStatusTool] })
export class OrderStatusModule {}
