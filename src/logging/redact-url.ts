/**
 * Query parameters whose values are credentials when someone puts them in a URL (a token pasted
 * as `?token=`, an OAuth-style `access_token`). Matched without regard to case, with or
 * without `[...]` after the name.
 */
export const REDACTED_QUERY_PARAMS: ReadonlySet<string> = new Set([
  'token',
  'api_token',
  'access_token',
]);

const CENSOR = '[redacted]';

function isSecretName(rawName: string): boolean {
  let name = rawName;
  try {
    name = decodeURIComponent(rawName.replace(/\+/g, ' '));
  } catch {
    // A malformed escape: judge the name as written.
  }
  return REDACTED_QUERY_PARAMS.has(name.replace(/\[.*$/, '').trim().toLowerCase());
}

/** `url` with the value of every REDACTED_QUERY_PARAMS parameter replaced by `[redacted]`. */
export function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const hashAt = url.indexOf('#', start);
  const end = hashAt < 0 ? url.length : hashAt;
  const query = url
    .slice(start + 1, end)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return eq >= 0 && isSecretName(name) ? `${name}=${CENSOR}` : pair;
    })
    .join('&');
  return `${url.slice(0, start + 1)}${query}${url.slice(end)}`;
}
