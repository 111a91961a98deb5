/**
 * What examples/concierge.module.ts changes when the model reserves a table for 2 at 19:30
 * (`reserve_table` calls `updateSession`): the transports' tests expect the same change.
 */
export const RESERVED_INSTRUCTIONS =
  'A table for 2 at 19:30 is reserved. Help with it; offer to cancel.';

/** The `session` of that one `session.update`: the change and nothing else. */
export const reservedSessionChange = () => ({
  type: 'realtime',
  instructions: RESERVED_INSTRUCTIONS,
  tools: [
    expect.objectContaining({ name: 'cancel_reservation' }),
    expect.objectContaining({ name: 'end_call' }),
  ],
  tool_choice: 'auto',
});
