// How LOCK_TEST_SERVERS picks the provider. Each case loads provider-choice afresh (its choice
// is made once per process) with its own environment. The engine cases talk to a small HTTP
// server on a unix socket that answers the four Docker API routes the probe reads, so the host
// or bridge decision can be checked without a Docker engine on the machine. It runs in a child
// process: the probe is synchronous and blocks this one.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type * as ProviderChoiceModule from '../src/provider-choice.js';

const VARIABLES = [
  'LOCK_TEST_SERVERS',
  'LOCK_TEST_SERVERS_NETWORK',
  'LOCK_TEST_SERVERS_CHOSEN',
  'DOCKER_HOST',
  'DOCKER_TLS_VERIFY',
] as const;
const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));

afterEach(() => {
  for (const name of VARIABLES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

/** provider-choice, loaded afresh under `env` (other variables it reads are cleared). */
function freshModule(env: Partial<Record<(typeof VARIABLES)[number], string>>) {
  for (const name of VARIABLES) delete process.env[name];
  Object.assign(process.env, env);
  let loaded: typeof ProviderChoiceModule | undefined;
  jest.isolateModules(() => {
    loaded = require('../src/provider-choice.js') as typeof ProviderChoiceModule;
  });
  return loaded as typeof ProviderChoiceModule;
}

/** Runs `chooseProvider()` with stderr captured; returns the choice and what it printed. */
function choose(module: typeof ProviderChoiceModule) {
  const printed: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((text) => {
    printed.push(String(text));
    return true;
  });
  try {
    return { choice: module.chooseProvider(), printed };
  } finally {
    spy.mockRestore();
  }
}

describe('LOCK_TEST_SERVERS', () => {
  it('rejects a value it does not know, naming the value and the allowed ones', () => {
    const module = freshModule({ LOCK_TEST_SERVERS: 'docker' });
    expect(() => module.chooseProvider()).toThrow(
      'LOCK_TEST_SERVERS is "docker": it must be one of process, containers, auto',
    );
  });

  it('process: local processes, without asking any engine; printed once', () => {
    const module = freshModule({ LOCK_TEST_SERVERS: 'process', DOCKER_HOST: 'unix:///nowhere' });
    const first = choose(module);
    expect(first.choice).toEqual({
      requested: 'process',
      provider: 'process',
      reason: 'LOCK_TEST_SERVERS=process',
    });
    expect(first.printed.join('')).toBe(
      '[@lock/testkit] test servers: process (LOCK_TEST_SERVERS=process)\n',
    );
    // Decided once: the second call prints nothing and hands the decision down in the env.
    expect(choose(module).printed).toEqual([]);
    expect(JSON.parse(process.env['LOCK_TEST_SERVERS_CHOSEN'] ?? '')).toEqual(first.choice);
  });

  it('auto without an engine: local processes, and the reason names where it looked', () => {
    const missing = join(tmpdir(), `no-docker-${process.pid}.sock`);
    const { choice } = choose(freshModule({ DOCKER_HOST: `unix://${missing}` }));
    expect(choice.requested).toBe('auto');
    expect(choice.provider).toBe('process');
    expect(choice.reason).toContain(`unix://${missing}`);
  });

  it('containers without an engine: a clear error rather than a silent fall-back', () => {
    const module = freshModule({
      LOCK_TEST_SERVERS: 'containers',
      DOCKER_HOST: 'unix:///nowhere/docker.sock',
    });
    expect(() => module.chooseProvider()).toThrow(
      /LOCK_TEST_SERVERS=containers, but no Docker engine answered \(unix:\/\/\/nowhere\/docker\.sock: .*ENOENT/,
    );
  });

  it('a decision handed down from the jest global setup is used as is, unless made under another LOCK_TEST_SERVERS', () => {
    const handed = { requested: 'auto', provider: 'process', reason: 'decided upstream' };
    const same = freshModule({ LOCK_TEST_SERVERS_CHOSEN: JSON.stringify(handed) });
    expect(choose(same)).toEqual({ choice: handed, printed: [] });

    const other = freshModule({
      LOCK_TEST_SERVERS: 'process',
      LOCK_TEST_SERVERS_CHOSEN: JSON.stringify(handed),
    });
    expect(choose(other).choice.reason).toBe('LOCK_TEST_SERVERS=process');
  });
});

describe('the engine that answers decides host or bridge networking', () => {
  let dir: string;
  let engine: ChildProcess;
  const answer = (operatingSystem: string, drivers: string[]) =>
    writeFileSync(join(dir, 'answer.json'), JSON.stringify({ operatingSystem, drivers }));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lock-fake-engine-'));
    answer('Linux', []);
    const script = `
      const { readFileSync } = require('node:fs');
      const [socket, answerFile] = process.argv.slice(1);
      require('node:http').createServer((request, reply) => {
        const { operatingSystem, drivers } = JSON.parse(readFileSync(answerFile, 'utf8'));
        const body = {
          '/_ping': 'OK',
          '/version': { Version: '99.0.0' },
          '/info': { OperatingSystem: operatingSystem },
          '/networks': drivers.map((Driver) => ({ Driver })),
        }[request.url];
        reply.writeHead(body === undefined ? 404 : 200);
        reply.end(typeof body === 'string' ? body : JSON.stringify(body));
      }).listen(socket);`;
    engine = spawn(
      process.execPath,
      ['-e', script, join(dir, 'docker.sock'), join(dir, 'answer.json')],
      {
        stdio: 'inherit',
      },
    );
    while (!existsSync(join(dir, 'docker.sock'))) await new Promise((r) => setTimeout(r, 10));
  });
  afterAll(async () => {
    engine.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  const host = () => `unix://${join(dir, 'docker.sock')}`;

  it('an engine without a bridge network (dockerd --bridge=none): host networking', () => {
    answer('Debian GNU/Linux 12 (bookworm)', ['host', 'null']);
    const { choice, printed } = choose(freshModule({ DOCKER_HOST: host() }));
    expect(choice).toEqual({
      requested: 'auto',
      provider: 'containers',
      reason: `LOCK_TEST_SERVERS=auto; Docker 99.0.0 answered at ${host()}`,
      dockerHost: host(),
      network: 'host',
    });
    expect(printed.join('')).toContain('test servers: containers (');
  });

  it('Docker Desktop (a virtual machine): published ports on its bridge', () => {
    answer('Docker Desktop', ['bridge', 'host', 'null']);
    const { choice } = choose(
      freshModule({ LOCK_TEST_SERVERS: 'containers', DOCKER_HOST: host() }),
    );
    expect(choice.network).toBe('bridge');
  });

  it('a Linux engine on a local socket: host networking, unless LOCK_TEST_SERVERS_NETWORK says bridge', () => {
    answer('Ubuntu 24.04 LTS', ['bridge', 'host', 'null']);
    const expected = process.platform === 'linux' ? 'host' : 'bridge';
    expect(choose(freshModule({ DOCKER_HOST: host() })).choice.network).toBe(expected);
    const forced = freshModule({ DOCKER_HOST: host(), LOCK_TEST_SERVERS_NETWORK: 'bridge' });
    expect(choose(forced).choice.network).toBe('bridge');
  });

  it('rejects a LOCK_TEST_SERVERS_NETWORK it does not know', () => {
    answer('Ubuntu 24.04 LTS', ['bridge']);
    const module = freshModule({ DOCKER_HOST: host(), LOCK_TEST_SERVERS_NETWORK: 'overlay' });
    expect(() => module.chooseProvider()).toThrow(
      'LOCK_TEST_SERVERS_NETWORK is "overlay": it must be one of host, bridge',
    );
  });
});
