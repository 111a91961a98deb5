import { Webhook } from 'standardwebhooks';
import type { FakeRealtimeConnection, FakeRealtimeServer } from './fake-realtime-server.js';
import { waitUntil } from './wait.js';

let webhookSeq = 0;

/** A `realtime.call.incoming` as OpenAI sends it, with the SIP headers a Twilio trunk adds. */
export function incomingCall(
  callId: string,
  { from, to }: { from: string; to: string },
): Record<string, unknown> {
  return {
    object: 'event',
    id: `evt_${callId}`,
    type: 'realtime.call.incoming',
    created_at: Math.floor(Date.now() / 1000),
    data: {
      call_id: callId,
      sip_headers: [
        { name: 'From', value: `"Caller" <sip:${from}@pstn.twilio.com>;tag=abc` },
        { name: 'To', value: `<sip:${to}@proj_test.sip.api.openai.com;transport=tls>` },
        { name: 'Call-ID', value: `${callId}-dialog@10.0.0.1` },
      ],
    },
  };
}

/** Posts a webhook signed by the independent standardwebhooks implementation. */
export function postSignedWebhook(
  baseUrl: string,
  secret: string,
  event: unknown,
): Promise<Response> {
  const payload = JSON.stringify(event);
  const id = `msg_support_${++webhookSeq}`;
  const at = new Date();
  return fetch(`${baseUrl}/api/openai/webhook`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, at, payload),
    },
    body: payload,
  });
}

/** The nth sideband the bridge opened for a call (`?call_id=`). */
export async function sidebandOf(
  openai: FakeRealtimeServer,
  callId: string,
  nth = 0,
): Promise<FakeRealtimeConnection> {
  const of = () => openai.connections.filter((c) => c.url.searchParams.get('call_id') === callId);
  await waitUntil(() => of().length > nth, `sideband #${nth + 1} of ${callId}`);
  return of()[nth];
}
