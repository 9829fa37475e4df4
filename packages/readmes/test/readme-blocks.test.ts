// Every ```ts block of every README in the repository must type-check against the packages as
// they are, so an example cannot drift from the API (node-redlock's wrong TSDoc example is the
// warning). Blocks that run against the embedded backend are also run by packages/demo.
//
// Each block is checked as its own module. A few names that examples use without defining them
// are declared once for all (see PRELUDE): a block that defines them itself shadows them.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';

const root = join(__dirname, '../../..');
const work = join(__dirname, '../.blocks');

/** Names examples may use without defining them: a locker, a backend, a held lock, a key. */
const PRELUDE = `import type { LockBackend, Locker, LockHandle } from '@lock/core';
declare global {
  const locker: Locker;
  const backend: LockBackend;
  const lock: LockHandle;
  const key: string;
}
export {};
`;

interface Block {
  readonly readme: string;
  readonly line: number;
  readonly source: string;
  /** Why the block is not checked, from a `<!-- readme-check: skip (why) -->` line before it. */
  readonly skipped: string | undefined;
}

function readmes(): string[] {
  const found = ['README.md', 'docs/writing-a-backend.md'];
  for (const name of readdirSync(join(root, 'packages'))) {
    try {
      readFileSync(join(root, 'packages', name, 'README.md'));
      found.push(`packages/${name}/README.md`);
    } catch {
      // no README in this folder
    }
  }
  return found;
}

function blocksOf(readme: string): Block[] {
  const lines = readFileSync(join(root, readme), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i] as string)) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !(lines[end] as string).startsWith('```')) end++;
    const marker = /^<!-- readme-check: skip \((.+)\) -->$/.exec((lines[i - 1] ?? '').trim());
    blocks.push({
      readme,
      line: start + 1,
      source: lines.slice(start, end).join('\n'),
      skipped: marker?.[1],
    });
    i = end;
  }
  return blocks;
}

describe('README TypeScript blocks', () => {
  const all = readmes().flatMap(blocksOf);
  const blocks = all.filter((block) => block.skipped === undefined);

  it('there are blocks to check, and only a few are skipped, each with its reason', () => {
    expect(blocks.length).toBeGreaterThan(10);
    const skipped = all.filter((block) => block.skipped !== undefined);
    expect(skipped.length).toBeLessThanOrEqual(5);
  });

  it('every block type-checks against the packages as they are', () => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, 'prelude.d.ts'), PRELUDE);
    const files = new Map<string, Block>();
    blocks.forEach((block, index) => {
      const name = `${block.readme.replace(/[^a-z0-9]+/gi, '-')}-${index}.ts`;
      // `export {}` makes every block a module: its names stay its own, top-level await works.
      writeFileSync(join(work, name), `${block.source}\nexport {};\n`);
      files.set(name, block);
    });
    writeFileSync(
      join(work, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../../tsconfig.base.json',
        compilerOptions: { types: ['node'], noUnusedLocals: false, declaration: false },
        include: ['*.ts'],
      }),
    );
    let output = '';
    try {
      execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', work], {
        cwd: work,
        encoding: 'utf8',
      });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    // Point each error at the README line it comes from.
    const problems = output
      .split('\n')
      .filter((line) => /error TS\d+/.test(line))
      .map((line) => {
        const match = /^([^()]+)\((\d+),\d+\): (.*)$/.exec(line.trim());
        const block = match ? files.get(relative(work, join(work, match[1] as string))) : undefined;
        if (!match || block === undefined) return line;
        return `${block.readme}:${block.line + Number(match[2]) - 1}: ${match[3]}`;
      });
    expect(problems).toEqual([]);
    rmSync(work, { recursive: true, force: true });
  }, 120_000);
});
