#!/usr/bin/env node
// The `lock` binary. Each command's code is imported only when it runs, so `lock status` starts fast.
import { createRequire } from 'node:module';
import { main } from './main.js';

const version = (): string =>
  (createRequire(import.meta.url)('../package.json') as { version: string }).version;

// `lock status … | head -c0`: a reader that goes away early is not lock's failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

const code = await main(process.argv.slice(2), version);
process.exitCode = code;
// A backend's driver may leave a handle open after close(); lock's work is done, so leave.
setTimeout(() => process.exit(code), 1_000).unref();
