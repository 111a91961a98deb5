/** The values of a route's `:name` segments, decoded. */
export type RouteParams = Record<string, string>;

/** A route path split into segments: literal text, or a `:name` parameter. */
export type RoutePattern = ReadonlyArray<{ literal: string } | { param: string }>;

/** Longest request path matched against the routes: anything longer is not the bridge's. */
export const MAX_UPGRADE_PATH_LENGTH = 2048;

/** `/api/calls/:callSid/listen` as segments; a bad pattern is the programmer's error. */
export function parseRoute(path: string): RoutePattern {
  if (!path.startsWith('/')) throw new Error(`WebSocket route ${path} must start with /`);
  return path
    .split('/')
    .slice(1)
    .map((segment) => {
      if (!segment.startsWith(':')) return { literal: segment };
      const name = segment.slice(1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw new Error(`WebSocket route ${path}: bad parameter name "${segment}"`);
      }
      return { param: name };
    });
}

/**
 * The parameters when `path` (no query string) is the pattern's, else undefined. A parameter
 * matches one whole non-empty segment; a segment that does not decode does not match.
 */
export function matchRoute(pattern: RoutePattern, path: string): RouteParams | undefined {
  if (path.length > MAX_UPGRADE_PATH_LENGTH || !path.startsWith('/')) return undefined;
  const segments = path.split('/').slice(1);
  if (segments.length !== pattern.length) return undefined;
  const params: RouteParams = {};
  for (const [index, part] of pattern.entries()) {
    const segment = segments[index];
    if ('literal' in part) {
      if (segment !== part.literal) return undefined;
      continue;
    }
    if (!segment) return undefined;
    try {
      params[part.param] = decodeURIComponent(segment);
    } catch {
      return undefined;
    }
  }
  return params;
}
