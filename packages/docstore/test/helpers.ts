import { freePort } from '@lock/testkit';

/** A loopback port nothing listens on (picked free, so a connect is refused). */
export function closedPort(): Promise<number> {
  return freePort();
}
