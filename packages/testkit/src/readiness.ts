import type { ServerSpec } from './harness.js';
import { canConnect } from './ports.js';

/**
 * Polls `spec.ready` (default: a TCP connect to the first port) every 25 ms until it says yes.
 * Rejects once `gone()` says the server has exited, or after `spec.startTimeoutMs`.
 */
export async function waitUntilReady(
  spec: ServerSpec,
  ports: readonly number[],
  gone: () => boolean | Promise<boolean>,
): Promise<void> {
  const ready = spec.ready ?? ((p) => canConnect(p[0] as number));
  const timeoutMs = spec.startTimeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  while (!(await ready(ports).catch(() => false))) {
    if (await gone()) throw new Error(`${spec.name} exited before it was ready`);
    if (Date.now() > deadline) {
      throw new Error(
        `${spec.name} was not ready on ports ${ports.join(',')} after ${timeoutMs} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
