import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';

/** The worker and resource programs, bundled: where they are, and how to remove them. */
export interface Bundle {
  readonly worker: string;
  readonly resource: string;
  dispose(): void;
}

/**
 * Bundles the worker and resource programs under `sourceDir` (this package's `src`, and the
 * workspace's `@lock/*` sources they import) into plain JavaScript once per suite. Started through tsx, each worker process spent ~1.3 s of
 * CPU compiling before its first lock; a bundle starts in ~0.3 s, which matters with a few
 * hundred worker processes per suite on two cores. npm packages stay outside the bundle, at the
 * absolute paths they resolve to from the importing file (etcd3 loads its .proto files relative
 * to itself).
 */
export async function bundlePrograms(sourceDir: string): Promise<Bundle> {
  const outdir = mkdtempSync(join(tmpdir(), 'lock-chaos-bundle-'));
  await build({
    entryPoints: {
      worker: join(sourceDir, 'worker/main.ts'),
      resource: join(sourceDir, 'resource/main.ts'),
    },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    conditions: ['source'],
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
    plugins: [npmPackagesOutside],
  });
  return {
    worker: join(outdir, 'worker.mjs'),
    resource: join(outdir, 'resource.mjs'),
    dispose: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/** Leaves npm packages out of the bundle, imported from the absolute path they resolve to. */
const npmPackagesOutside: Plugin = {
  name: 'npm-packages-outside',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@lock/') || args.path.startsWith('node:')) return undefined;
      const require = createRequire(join(args.resolveDir, 'noop.js'));
      return { path: require.resolve(args.path), external: true };
    });
  },
};
