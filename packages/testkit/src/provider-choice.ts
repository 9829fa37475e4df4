/**
 * Which provider starts the test servers: local processes, or containers through
 * testcontainers. `LOCK_TEST_SERVERS=process|containers|auto` (default `auto`: containers when a
 * Docker engine answers, otherwise processes).
 *
 * Decided once per run: the jest global setup decides, prints the choice and its reason, and
 * hands the decision to the test workers in `LOCK_TEST_SERVERS_CHOSEN`; a program without that
 * setup (the bench) decides and prints on first use.
 *
 * This file imports nothing relative on purpose: jest loads it for the global setup outside its
 * module mapper, where `./x.js` would not resolve to `x.ts`.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';

/** Where test servers run. */
export type ServerProvider = 'process' | 'containers';

/**
 * How containers reach the tests: `host` (the container shares the host's network, as on a
 * Linux engine or one started without a bridge) or `bridge` (its ports are published on the
 * host, as Docker Desktop needs).
 */
export type ContainerNetwork = 'host' | 'bridge';

/** The provider chosen for this run, and why. */
export interface ProviderChoice {
  /** What `LOCK_TEST_SERVERS` asked for. */
  readonly requested: 'process' | 'containers' | 'auto';
  /** What starts the servers. */
  readonly provider: ServerProvider;
  /** Why, in words, for the one line printed per run. */
  readonly reason: string;
  /** The engine that answered, in `DOCKER_HOST` form (containers only). */
  readonly dockerHost?: string;
  /** How containers are networked (containers only). */
  readonly network?: ContainerNetwork;
}

const REQUESTS = ['process', 'containers', 'auto'] as const;
const NETWORKS = ['host', 'bridge'] as const;
/** Where the decision is handed from the jest global setup to the test workers. */
const CHOSEN_VARIABLE = 'LOCK_TEST_SERVERS_CHOSEN';

let chosen: ProviderChoice | undefined;

/**
 * The provider for this run: decided on the first call (and printed once), then the same.
 * @throws when `LOCK_TEST_SERVERS` or `LOCK_TEST_SERVERS_NETWORK` has a value it does not know,
 * or `LOCK_TEST_SERVERS=containers` and no Docker engine answers (the probe's error is `cause`).
 */
export function chooseProvider(): ProviderChoice {
  if (chosen !== undefined) return chosen;
  const requested = requestedProvider();
  const handed = handedDown(requested);
  if (handed !== undefined) {
    chosen = handed;
    return chosen;
  }
  chosen = decide(requested);
  process.env[CHOSEN_VARIABLE] = JSON.stringify(chosen);
  process.stderr.write(`${describeChoice(chosen)}\n`);
  return chosen;
}

/** One line saying which provider runs the test servers and why. */
export function describeChoice(choice: ProviderChoice): string {
  const how = choice.network === undefined ? '' : `, ${choice.network} network`;
  return `[@lock/testkit] test servers: ${choice.provider} (${choice.reason}${how})`;
}

function requestedProvider(): ProviderChoice['requested'] {
  const value = process.env['LOCK_TEST_SERVERS'] ?? 'auto';
  const known = REQUESTS.find((r) => r === value);
  if (known === undefined) {
    throw new Error(
      `LOCK_TEST_SERVERS is ${JSON.stringify(value)}: it must be one of ${REQUESTS.join(', ')}`,
    );
  }
  return known;
}

function handedDown(requested: ProviderChoice['requested']): ProviderChoice | undefined {
  const text = process.env[CHOSEN_VARIABLE];
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as ProviderChoice;
    // A decision made under another LOCK_TEST_SERVERS is not this run's.
    return parsed.requested === requested ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function decide(requested: ProviderChoice['requested']): ProviderChoice {
  if (requested === 'process') {
    return { requested, provider: 'process', reason: 'LOCK_TEST_SERVERS=process' };
  }
  const engine = probeDockerEngine();
  if ('error' in engine) {
    if (requested === 'containers') {
      throw new Error(
        `LOCK_TEST_SERVERS=containers, but no Docker engine answered (${engine.error}). Start one, set DOCKER_HOST, or use LOCK_TEST_SERVERS=process`,
      );
    }
    return {
      requested,
      provider: 'process',
      reason: `LOCK_TEST_SERVERS=auto and no Docker engine answered: ${engine.error}`,
    };
  }
  return {
    requested,
    provider: 'containers',
    reason: `LOCK_TEST_SERVERS=${requested}; Docker ${engine.version} answered at ${engine.endpoint}`,
    dockerHost: engine.endpoint,
    network: networkFor(engine),
  };
}

function networkFor(engine: EngineFound): ContainerNetwork {
  const value = process.env['LOCK_TEST_SERVERS_NETWORK'];
  if (value !== undefined && value !== '') {
    const known = NETWORKS.find((n) => n === value);
    if (known === undefined) {
      throw new Error(
        `LOCK_TEST_SERVERS_NETWORK is ${JSON.stringify(value)}: it must be one of ${NETWORKS.join(', ')}`,
      );
    }
    return known;
  }
  if (!engine.hasBridge) return 'host';
  // Host networking shares the loopback with the tests only when the engine runs on this
  // kernel: a Linux engine on a local socket, not Docker Desktop's virtual machine.
  const local =
    process.platform === 'linux' &&
    engine.endpoint.startsWith('unix://') &&
    !/docker desktop/i.test(engine.operatingSystem);
  return local ? 'host' : 'bridge';
}

interface EngineFound {
  readonly endpoint: string;
  readonly version: string;
  readonly operatingSystem: string;
  readonly hasBridge: boolean;
}

/**
 * Asks the Docker engine at `DOCKER_HOST`, or else at the sockets testcontainers also looks at,
 * for `/_ping`, `/version`, `/info` and its networks. Synchronous (a short child process), as
 * `serverAvailable()` is; each request is bounded by 2 s.
 */
function probeDockerEngine(): EngineFound | { error: string } {
  const given = process.env['DOCKER_HOST'];
  const candidates = given
    ? [given]
    : [
        '/var/run/docker.sock',
        ...(process.env['XDG_RUNTIME_DIR']
          ? [join(process.env['XDG_RUNTIME_DIR'], 'docker.sock')]
          : []),
        join(homedir(), '.docker', 'run', 'docker.sock'),
        join(homedir(), '.docker', 'desktop', 'docker.sock'),
        join('/run', 'user', String(userInfo().uid), 'docker.sock'),
      ]
        .filter((path) => existsSync(path))
        .map((path) => `unix://${path}`);
  if (candidates.length === 0)
    return { error: 'DOCKER_HOST is not set and no Docker socket exists' };
  const tls =
    process.env['DOCKER_TLS_VERIFY'] === '1' ? (process.env['DOCKER_CERT_PATH'] ?? '') : '';
  const result = spawnSync(
    process.execPath,
    ['-e', PROBE_SCRIPT, JSON.stringify(candidates), tls],
    {
      encoding: 'utf8',
      timeout: 10_000,
    },
  );
  const lines = (result.stdout ?? '').trim().split('\n');
  try {
    return JSON.parse(lines[lines.length - 1] ?? '') as EngineFound | { error: string };
  } catch {
    return { error: `the probe failed: ${result.error?.message ?? result.stderr?.trim()}` };
  }
}

/** Runs in a child `node -e`: tries each endpoint in turn, prints one JSON line. */
const PROBE_SCRIPT = `
const http = require('node:http'), https = require('node:https'), fs = require('node:fs'), path = require('node:path');
const [candidates, certPath] = [JSON.parse(process.argv[1]), process.argv[2]];
function get(endpoint, route) {
  return new Promise((resolve, reject) => {
    const url = new URL(endpoint);
    const options = url.protocol === 'unix:' ? { socketPath: url.pathname, path: route }
      : { host: url.hostname, port: url.port || 2375, path: route };
    let client = http;
    if (url.protocol !== 'unix:' && certPath) {
      client = https;
      for (const name of ['ca', 'cert', 'key']) options[name] = fs.readFileSync(path.join(certPath, name + '.pem'));
    }
    const request = client.get({ ...options, timeout: 2000 }, (reply) => {
      let body = '';
      reply.on('data', (chunk) => (body += chunk));
      reply.on('end', () => reply.statusCode === 200 ? resolve(body) : reject(new Error(route + ' answered ' + reply.statusCode)));
    });
    request.on('timeout', () => request.destroy(new Error(route + ' timed out after 2 s')));
    request.on('error', reject);
  });
}
(async () => {
  const errors = [];
  for (const endpoint of candidates) {
    try {
      await get(endpoint, '/_ping');
      const version = JSON.parse(await get(endpoint, '/version'));
      const info = JSON.parse(await get(endpoint, '/info'));
      const networks = JSON.parse(await get(endpoint, '/networks'));
      console.log(JSON.stringify({ endpoint, version: version.Version, operatingSystem: info.OperatingSystem || '',
        hasBridge: networks.some((n) => n.Driver === 'bridge') }));
      return;
    } catch (e) { errors.push(endpoint + ': ' + e.message); }
  }
  console.log(JSON.stringify({ error: errors.join('; ') }));
})();
`;
