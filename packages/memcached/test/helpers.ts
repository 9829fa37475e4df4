import { freePort } from '@lock/testkit';

/** A loopback port nothing listens on (a free port, not kept open). */
export function closedPort(): Promise<number> {
  return freePort();
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
