/**
 * The images test servers run from under the container provider: official images pinned by
 * tag, each replaced by its own environment variable (a local image, another version).
 * @module
 */
import type { ContainerSpec } from './container-spec.js';

/** Redis (Docker's official image); its entrypoint runs `redis-server` as user `redis`. */
export const redisContainer: ContainerSpec = {
  image: 'redis:7.4.2',
  imageVariable: 'LOCK_TEST_REDIS_IMAGE',
};

/** memcached (Docker's official image, as user `memcache`, where `-u root` is ignored). */
export const memcachedContainer: ContainerSpec = {
  image: 'memcached:1.6.38-alpine',
  imageVariable: 'LOCK_TEST_MEMCACHED_IMAGE',
};

/** etcd (the etcd project's image, with `etcd` on its PATH). */
export const etcdContainer: ContainerSpec = {
  image: 'gcr.io/etcd-development/etcd:v3.5.21',
  imageVariable: 'LOCK_TEST_ETCD_IMAGE',
};

/**
 * MongoDB itself (`mongod`, the official image), in memory-light settings on the scratch
 * folder, for a spec named `MONGODB` whose `url` is `mongodb://127.0.0.1:PORT/`.
 */
export const mongodbContainer: ContainerSpec = {
  image: 'mongo:7.0.14',
  imageVariable: 'LOCK_TEST_MONGODB_IMAGE',
  command: ([port], dir, listenHost) => [
    'mongod',
    '--bind_ip',
    listenHost,
    '--port',
    String(port),
    '--dbpath',
    dir,
    '--wiredTigerCacheSizeGB',
    '0.25',
    '--quiet',
  ],
};

/**
 * Google's Firestore emulator (the Google Cloud CLI's emulators image), for a spec whose first
 * port is the emulator's and whose `url` is `127.0.0.1:PORT` (`FIRESTORE_EMULATOR_HOST`).
 */
export const firestoreEmulatorContainer: ContainerSpec = {
  image: 'gcr.io/google.com/cloudsdktool/google-cloud-cli:546.0.0-emulators',
  imageVariable: 'LOCK_TEST_FIRESTORE_IMAGE',
  command: ([port], _dir, listenHost) => [
    'gcloud',
    'emulators',
    'firestore',
    'start',
    `--host-port=${listenHost}:${port}`,
  ],
};

/**
 * DynamoDB's API: Amazon's DynamoDB Local (in memory; its entrypoint is `java`, it listens on
 * every address), for a spec whose `url` is `http://127.0.0.1:PORT`.
 */
export const dynamodbLocalContainer: ContainerSpec = {
  image: 'amazon/dynamodb-local:2.6.1',
  imageVariable: 'LOCK_TEST_DYNAMODB_IMAGE',
  command: ([port]) => [
    '-jar',
    'DynamoDBLocal.jar',
    '-inMemory',
    '-sharedDb',
    '-disableTelemetry',
    '-port',
    String(port),
  ],
};
