// The README examples must run: each "## Example" block of the READMEs that use the embedded
// backend is written to a file here and executed, and the demo's own output is checked.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

const root = join(__dirname, '../../..');
const READMES = ['README.md', 'packages/core/README.md', 'packages/local/README.md'];

function exampleOf(readme: string, heading = 'Example'): string {
  const text = readFileSync(join(root, readme), 'utf8');
  const section = text.split(new RegExp(`^## ${heading}\\s*$`, 'm'))[1];
  const block = section && /```ts\n([\s\S]*?)```/.exec(section);
  if (!block?.[1]) throw new Error(`${readme} has no "## ${heading}" ts block`);
  return block[1];
}

function runTs(source: string): string {
  const dir = mkdtempSync(join(__dirname, '.example-'));
  try {
    const file = join(dir, 'example.ts');
    writeFileSync(file, source);
    return execFileSync(process.execPath, ['--conditions=source', '--import', 'tsx', file], {
      cwd: join(__dirname, '..'),
      encoding: 'utf8',
      timeout: 60_000,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('README examples run', () => {
  for (const readme of READMES) {
    it(readme, () => {
      expect(() => runTs(exampleOf(readme))).not.toThrow();
    }, 60_000);
  }

  it('packages/core/README.md: semaphores and read-write locks', () => {
    const output = runTs(exampleOf('packages/core/README.md', 'Semaphores and read-write locks'));
    expect(output).toMatch(/^undefined\ntrue\n/m);
    expect(output).toMatch(/writing under fence \d+ \(after read fence \d+\)/);
    expect(output).toMatch(/^true 1$/m);
  }, 60_000);

  it('pnpm demo runs the seed scenario on the embedded default and reports 1000', () => {
    const output = execFileSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'src/main.ts'],
      {
        cwd: join(__dirname, '..'),
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(output).toMatch(/final counter:\s+1000 \(expected 1000\)/);
    expect(output).toMatch(/mutual exclusion:\s+held/);
    expect(output).toMatch(/handoff release→next acquire: p50 [\d.]+ ms/);
  }, 120_000);
});
