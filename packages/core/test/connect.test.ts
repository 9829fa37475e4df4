import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { connect, isLockError, registerBackend, schemeOf } from '../src/index.js';

describe('connect', () => {
  it('reads the scheme, case-insensitively, and rejects a string without one', () => {
    expect(schemeOf('redis://h:6379')).toBe('redis');
    expect(schemeOf('ETCD://a:2379,b:2379')).toBe('etcd');
    expect(schemeOf('local:')).toBe('local');
    for (const bad of ['', 'localhost:6379x', '//host', '6379', ':x']) {
      if (bad === 'localhost:6379x') continue; // a valid scheme ("localhost"), just unknown
      let error: unknown;
      try {
        schemeOf(bad);
      } catch (e) {
        error = e;
      }
      expect(isLockError(error, 'INVALID_CONNECTION_STRING')).toBe(true);
    }
  });

  it('an unknown scheme is an unsupported service', async () => {
    const error = await connect('gopher://x').catch((e: unknown) => e);
    expect(isLockError(error, 'UNSUPPORTED_SERVICE')).toBe(true);
    expect((error as Error).message).toContain('gopher');
  });

  it('a backend package that is not installed gives an error naming the package to install', () => {
    // As a user who installed only @lock/core: the built package alone in a folder of its own.
    // (Inside this workspace every backend is linked into the root node_modules, so an import
    // from the sources would always find @lock/docstore.)
    const dist = join(__dirname, '..', 'dist', 'index.js');
    if (!existsSync(dist))
      throw new Error(`build @lock/core first (pnpm build): ${dist} is missing`);
    const project = mkdtempSync(join(tmpdir(), 'lock-core-alone-'));
    try {
      const home = join(project, 'node_modules', '@lock', 'core');
      cpSync(join(__dirname, '..', 'dist'), join(home, 'dist'), { recursive: true });
      cpSync(join(__dirname, '..', 'package.json'), join(home, 'package.json'));
      const script = `import { connect } from '@lock/core';
        const e = await connect('mongodb://127.0.0.1:1/db').catch((e) => e);
        console.log(JSON.stringify({ code: e.code, packageName: e.packageName, message: e.message }));`;
      writeFileSync(join(project, 'check.mjs'), script);
      const run = spawnSync(process.execPath, ['check.mjs'], { cwd: project, encoding: 'utf8' });
      expect(run.stderr).toBe('');
      const error = JSON.parse(run.stdout) as {
        code: string;
        packageName: string;
        message: string;
      };
      expect(error.code).toBe('UNSUPPORTED_SERVICE');
      expect(error.packageName).toBe('@lock/docstore');
      expect(error.message).toContain('npm i @lock/docstore');
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('a malformed URI, a non-string and unknown options are rejected before any import', async () => {
    await expect(connect('no scheme here')).rejects.toMatchObject({
      code: 'INVALID_CONNECTION_STRING',
    });
    await expect(connect(42 as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(connect('local:', { tll: 1 } as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('options.tll'),
    });
  });

  it('registerBackend serves a scheme of your own and validates its input', async () => {
    let opened: unknown[] = [];
    registerBackend('teststore', async () => ({
      openBackend: async (uri, options) => {
        opened = [uri, options];
        throw new Error('refused by test store');
      },
    }));
    await expect(connect('teststore://x', { backend: { a: 1 } })).rejects.toThrow(
      'refused by test store',
    );
    expect(opened).toEqual(['teststore://x', { a: 1 }]);
    expect(() => registerBackend('Bad Scheme', async () => ({}) as never)).toThrow(/scheme/);
  });
});
