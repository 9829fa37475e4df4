#!/usr/bin/env node
// The `lock` binary. Kept tiny: everything else is imported on demand, so `lock status` starts fast.
import { createRequire } from 'node:module';
import { main } from './main.js';

const version = (): string =>
  (createRequire(import.meta.url)('../package.json') as { version: string }).version;

const code = await main(process.argv.slice(2), version);
process.exitCode = code;
// A backend's driver may leave a handle open after close(); lock's work is done, so leave.
setTimeout(() => process.exit(code), 2_000).unref();
