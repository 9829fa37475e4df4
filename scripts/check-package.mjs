// Packs the package in the current folder the way it will be published (pnpm rewrites
// workspace: ranges) and checks the tarball with publint --strict and arethetypeswrong.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const out = mkdtempSync(join(tmpdir(), 'lock-pack-'));
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });
try {
  run('pnpm', ['pack', '--pack-destination', out]);
  const tarball = join(
    out,
    readdirSync(out).find((f) => f.endsWith('.tgz')),
  );
  run('publint', ['--strict', tarball]);
  run('attw', [tarball, '--profile', 'node16', '--format', 'table-flipped']);
} finally {
  rmSync(out, { recursive: true, force: true });
}
