import { defineConfig } from 'tsup';

// One ESM entry, the `lock` binary. Each command is its own chunk, imported only when that
// command runs, so `lock status` does not load the child-process code of `exec` (cold start).
export default defineConfig({
  entry: ['src/bin.ts'],
  format: ['esm'],
  splitting: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
});
