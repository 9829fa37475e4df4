/**
 * `@lock/core/testing`: a manual clock for deterministic tests of keepalive, expiry and loss.
 * @packageDocumentation
 */
export { ManualClock, settle } from './manual-clock.js';
