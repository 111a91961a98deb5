/**
 * What any call id looks like, whatever its transport: a Twilio CallSid (`CA` + 32 hex) or an
 * OpenAI SIP call id (`rtc_...`). One bound for everything that carries one (the SIP webhook and
 * calls API, the cluster bus, the listen relay): a call one part accepts but another refuses
 * would be live on its instance and invisible to the others. Ids go into URL paths, query
 * strings and Redis keys, hence the strict shape.
 */
export const CALL_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
