import { version } from '../package.json';

/** The instrumentation scope (meter and tracer name) of everything `@lock/otel` reports. */
export const SCOPE_NAME = '@lock/otel';

/** This package's version, reported as the instrumentation scope's version. */
export const SCOPE_VERSION: string = version;
