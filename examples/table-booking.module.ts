import { Injectable, Module, Scope } from '@nestjs/common';
import { CallContext, RealtimeTool } from 'twilio-realtime-bridge';
import { z } from 'zod';

const BookTable = z.object({
  date: z.iso.date().describe('The day, as YYYY-MM-DD'),
  guests: z.number().int().min(1).max(8).describe('How many people, 1 to 8'),
  name: z.string().min(1).optional().describe('Whose name the table is under'),
});

type Booking = z.infer<typeof BookTable>;

/** Per call: what this caller has booked so far, for the rest of the call and no longer. */
@Injectable({ scope: Scope.REQUEST })
export class TableBooking {
  static readonly LIMIT = 2;
  private readonly bookings: Booking[] = [];

  constructor(private readonly call: CallContext) {}

  @RealtimeTool({
    name: 'book_table',
    description: 'Book a table. Ask the caller for the date and the number of guests first.',
    parameters: BookTable,
  })
  book(booking: Booking) {
    if (this.bookings.length >= TableBooking.LIMIT) {
      return { ok: false, reason: `At most ${TableBooking.LIMIT} bookings per call.` };
    }
    this.bookings.push(booking);
    return {
      ok: true,
      reference: `${this.call.callSid.slice(-4)}-${this.bookings.length}`,
      under: booking.name ?? this.call.from ?? 'the caller',
    };
  }
}

@Module({ providers: [TableBooking] })
export class TableBookingModule {}
