// Fails the build when a bundle grows past its budget (bytes of min+gzip).
// Usage: node size-check.mjs <entry> <budgetBytes>
// Hand-written rather than size-limit: esbuild is already installed (tsup uses it) and the
// whole check is a minify plus a gzip, which size-limit would wrap in a plugin system.
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const [entry, budgetText] = process.argv.slice(2);
const budget = Number(budgetText);
if (!entry || !Number.isFinite(budget)) {
  console.error('usage: node size-check.mjs <entry> <budgetBytes>');
  process.exit(2);
}
const result = await build({
  entryPoints: [entry],
  bundle: true,
  minify: true,
  write: false,
  format: 'esm',
  platform: 'neutral',
  logLevel: 'silent',
});
const bytes = gzipSync(result.outputFiles[0].contents, { level: 9 }).length;
const line = `${entry}: ${bytes} B min+gzip (budget ${budget} B)`;
if (bytes > budget) {
  console.error(`size check FAILED: ${line}`);
  process.exit(1);
}
console.log(`size check ok: ${line}`);
