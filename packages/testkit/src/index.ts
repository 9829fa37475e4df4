/**
 * `@lock/testkit` (private): the conformance suite every backend runs, the real-server harness,
 * and small test helpers.
 * @packageDocumentation
 */

export { runConformanceSuite } from './conformance.js';
export type { Capabilities, ConformanceTarget } from './conformance-target.js';
// Everything that runs without jest (harness, server specs, helpers) lives in one list.
export * from './servers.js';
