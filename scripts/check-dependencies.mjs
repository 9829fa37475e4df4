// The dependency rules of the design, checked on every package under packages/:
// - @lock/core has no runtime dependencies;
// - a published backend depends on @lock/core and its own driver(s) only (the CLI: core and local);
// - every bare import in src/ is declared in dependencies or peerDependencies (node: builtins aside).
// sherif (run beside this) checks version consistency; this checks what sherif does not.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ALLOWED = {
  '@lock/core': [],
  '@lock/local': ['@lock/core'],
  '@lock/redis': ['@lock/core', 'redis'],
  '@lock/memcached': ['@lock/core', 'memjs'],
  // @grpc/grpc-js: etcd3's own transport (pinned to the version etcd3 resolves), for the
  // interceptor that lets close() cancel the client's streams (src/open-streams.ts).
  '@lock/etcd': ['@lock/core', 'etcd3', '@grpc/grpc-js'],
  // The CLI: core, and local as the embedded default; server backends are optional peers.
  '@lock/cli': ['@lock/core', '@lock/local'],
  // @opentelemetry/api is a peer dependency: the application's one copy holds the providers.
  '@lock/otel': ['@lock/core'],
  '@lock/docstore': [
    '@lock/core',
    '@google-cloud/firestore',
    '@aws-sdk/client-dynamodb',
    'mongodb',
  ],
};
const BUILTINS = new Set([
  'crypto',
  'net',
  'tls',
  'os',
  'fs',
  'path',
  'events',
  'child_process',
  'url',
  'util',
  'zlib',
  'timers',
  'dns',
]);

const problems = [];
const files = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : /\.(ts|mts|cts)$/.test(name) ? [path] : [];
  });
const packageOf = (specifier) =>
  specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];

for (const dir of readdirSync('packages')) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join('packages', dir, 'package.json'), 'utf8'));
  } catch {
    continue; // a folder without a package yet
  }
  const declared = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
  const allowed = ALLOWED[manifest.name];
  if (!manifest.private) {
    if (allowed === undefined)
      problems.push(`${manifest.name}: published but has no dependency rule here`);
    for (const dep of Object.keys(manifest.dependencies ?? {})) {
      if (allowed && !allowed.includes(dep))
        problems.push(`${manifest.name}: runtime dependency ${dep} is not allowed`);
    }
  }
  let sources = [];
  try {
    sources = files(join('packages', dir, 'src'));
  } catch {}
  for (const file of sources) {
    // Examples in TSDoc comments import other packages on purpose: scan code only.
    const text = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    for (const match of text.matchAll(
      /(?:from\s+|import\s*\(\s*|require\(\s*)['"]([^'"./][^'"]*)['"]/g,
    )) {
      const specifier = match[1];
      if (specifier.startsWith('node:') || BUILTINS.has(specifier)) continue;
      const name = packageOf(specifier);
      if (name !== manifest.name && !declared.has(name))
        problems.push(`${file}: imports ${name}, not declared`);
    }
  }
}
if (problems.length > 0) {
  console.error(`dependency check FAILED:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('dependency check ok');
