/**
 * Test servers for `@lock/docstore`: FerretDB (MongoDB wire protocol, built from the Go module
 * proxy by `scripts/install-docstore-servers.sh`), Google's Firestore emulator (a jar in the
 * machine's Google Cloud SDK, run with java directly so the PID is the server) and dynalite
 * (DynamoDB's API, from npm). Each can be replaced by `LOCK_TEST_<NAME>_URL` (a real `mongod`,
 * for instance). Where containers run the test servers (`LOCK_TEST_SERVERS`), they are `mongod`
 * itself, the Google Cloud CLI's emulators image and Amazon's DynamoDB Local instead.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  dynamodbLocalContainer,
  firestoreEmulatorContainer,
  mongodbContainer,
} from './container-images.js';
import type { ServerSpec } from './harness.js';
import { tmpfsRoot } from './server-specs.js';

/**
 * Where `scripts/install-docstore-servers.sh` puts the FerretDB test binary:
 * `packages/testkit/ferretdb/ferretdb-test`, found from the working folder upwards (jest runs
 * in a package folder, the bench in its own), or `LOCK_FERRETDB_BINARY`.
 */
export function ferretdbBinary(): string {
  const given = process.env['LOCK_FERRETDB_BINARY'];
  if (given) return given;
  const relative = join('packages', 'testkit', 'ferretdb', 'ferretdb-test');
  for (let dir = resolve(process.cwd()); ; dir = dirname(dir)) {
    if (existsSync(join(dir, relative))) return join(dir, relative);
    if (dirname(dir) === dir) return relative;
  }
}

/**
 * FerretDB 1.24 on SQLite (on tmpfs when there is one) on a free loopback port. `url` is a
 * `mongodb://` URL; set `LOCK_TEST_MONGODB_URL` to test against a real `mongod` instead.
 */
export function ferretdbServerSpec(): ServerSpec {
  return {
    name: 'MONGODB',
    command: ferretdbBinary(),
    container: mongodbContainer, // mongod itself, where containers run the test servers
    ...(tmpfsRoot === undefined ? {} : { scratchRoot: tmpfsRoot }),
    args: ([port], dir) => ['-listen', `127.0.0.1:${port}`, '-dir', dir],
    url: ([port]) => `mongodb://127.0.0.1:${port}/`,
    installHint: 'bash scripts/install-docstore-servers.sh builds it with Go',
  };
}

let sdkRoot: string | undefined | null = null;

/** The Google Cloud SDK's root folder, or `undefined` when there is none. */
export function cloudSdkRoot(): string | undefined {
  if (sdkRoot !== null) return sdkRoot;
  const fromEnv = process.env['CLOUDSDK_ROOT_DIR'];
  const found =
    fromEnv ??
    spawnSync('gcloud', ['info', '--format=value(installation.sdk_root)'], {
      encoding: 'utf8',
      timeout: 20_000,
    }).stdout?.trim();
  sdkRoot = found ? found : undefined;
  return sdkRoot;
}

/** The Firestore emulator jar in the Google Cloud SDK, or `undefined` when it is not there. */
export function firestoreEmulatorJar(): string | undefined {
  const root = cloudSdkRoot();
  if (root === undefined) return undefined;
  const jar = join(root, 'platform', 'cloud-firestore-emulator', 'cloud-firestore-emulator.jar');
  return existsSync(jar) ? jar : undefined;
}

/**
 * Google's Firestore emulator on two free loopback ports (gRPC/HTTP, websocket), run with java
 * directly (C1 only: it starts faster). `url` is `host:port` for `FIRESTORE_EMULATOR_HOST`.
 * `command` is `java`; the jar's absence is reported by {@link firestoreEmulatorJar}.
 */
export function firestoreServerSpec(): ServerSpec {
  return {
    name: 'FIRESTORE',
    command: firestoreEmulatorJar() === undefined ? 'firestore-emulator-jar-not-found' : 'java',
    container: firestoreEmulatorContainer,
    ports: 2,
    args: ([port, websocket]) => [
      '-Xmx256m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-cp',
      firestoreEmulatorJar() as string,
      'com.google.cloud.datastore.emulator.firestore.CloudFirestore',
      'start',
      '--host=127.0.0.1',
      `--port=${port}`,
      `--websocket_port=${websocket}`,
    ],
    url: ([port]) => `127.0.0.1:${port}`,
    ready: async ([port]) => {
      const reply = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
      return reply?.ok === true && (await reply.text()).trim() === 'Ok';
    },
    startTimeoutMs: 60_000,
    installHint:
      'the Google Cloud SDK with the Firestore emulator (gcloud components install cloud-firestore-emulator) and Java 11+',
  };
}

/**
 * dynalite (DynamoDB's API on LevelDB, in memory) on a free loopback port, tables created at
 * once. `cli` is the path of dynalite's `cli.js` as the caller's install resolves it
 * (`require.resolve('dynalite/cli.js')`), `undefined` when it is not installed. `url` is the
 * `http://` endpoint.
 */
export function dynaliteServerSpec(cli: string | undefined): ServerSpec {
  return {
    name: 'DYNAMODB',
    command: cli === undefined ? 'dynalite-not-installed' : process.execPath,
    container: dynamodbLocalContainer, // Amazon's DynamoDB Local, where containers run them
    args: ([port]) => [
      cli as string,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--createTableMs',
      '0',
      '--deleteTableMs',
      '0',
      '--updateTableMs',
      '0',
    ],
    url: ([port]) => `http://127.0.0.1:${port}`,
    // Any HTTP answer: a published port accepts connections before the server listens.
    ready: async ([port]) =>
      (await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined)) !== undefined,
    installHint: 'pnpm install (dynalite is a devDependency of @lock/docstore)',
  };
}
