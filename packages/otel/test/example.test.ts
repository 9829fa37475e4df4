import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { LockMetrics } from '../src/index.js';

const root = join(__dirname, '..');
const example = join(root, 'examples', 'console-metrics.ts');
const producerExample = join(root, 'examples', 'producer-metrics.ts');

/** Runs an example file on the in-process backend; its standard output. */
async function run(file: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', file],
    { cwd: root, timeout: 30_000, env: { ...process.env, LOCK_URL: 'local:' } },
  );
  return stdout;
}

describe('the README example', () => {
  it('is the file that runs here, word for word (and so is the producer example)', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = /## Example[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(readFileSync(example, 'utf8'));
    const producer = /## The cheapest metrics[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(producer).toBe(readFileSync(producerExample, 'utf8'));
  });

  it('documents every instrument with its kind, unit and attributes', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const kinds = { histogram: 'histogram', counter: 'counter', updowncounter: 'up-down counter' };
    for (const metric of Object.values(LockMetrics)) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${metric.name}\``));
      expect(row).toBeDefined();
      const [, , kind, unit, attributes] = (row as string).split('|').map((cell) => cell.trim());
      expect(kind).toContain(kinds[metric.kind]);
      expect(unit).toBe(`\`${metric.unit}\``);
      expect(attributes).toBe(metric.attributes.map((name) => `\`${name}\``).join(', '));
    }
  });

  it('runs on the in-process backend and prints the lock metrics to the console', async () => {
    const stdout = await run(example);
    for (const name of [
      'lock.acquire.duration',
      'lock.hold.duration',
      'lock.handoff.duration',
      'lock.acquisitions',
      'lock.held.count',
    ]) {
      expect(stdout).toContain(`name: '${name}'`);
    }
    expect(stdout).toContain("'lock.key': 'report'");
    expect(stdout).toContain("'lock.system.name': 'local'");
  });

  it('the producer example prints the same lock metrics, through the reader it was given to', async () => {
    const stdout = await run(producerExample);
    for (const name of ['lock.acquire.duration', 'lock.hold.duration', 'lock.acquisitions']) {
      expect(stdout).toContain(`name: '${name}'`);
    }
    expect(stdout).toContain("'lock.system.name': 'local'");
  });
});
