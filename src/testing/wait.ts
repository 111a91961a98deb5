/**
 * Polls `condition` until it holds, failing with `what` after `timeoutMs`, or at once when
 * `giveUp` names a reason it never will (the bridge closed the stream): a test then reads the
 * bridge's reason, not a timeout. `condition` is asked first, so what was done still counts.
 */
export async function waitUntil(
  condition: () => boolean,
  what: string,
  timeoutMs = 5000,
  giveUp: () => string | undefined = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    const reason = giveUp();
    if (reason !== undefined) throw new Error(`gave up waiting for ${what}: ${reason}`);
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
