/** Twilio's webhook says `inbound`, `outbound-api` or `outbound-dial` (the stream's `Direction`). */
export function directionOf(parameters: Readonly<Record<string, string>>): 'inbound' | 'outbound' {
  return parameters.Direction?.startsWith('outbound') ? 'outbound' : 'inbound';
}
