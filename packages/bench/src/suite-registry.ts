import type { Suite } from './adapter.js';
import type { ServerKind } from './server-counters.js';
import { dynamodbSuite, firestoreSuite, mongodbSuite } from './suites/docstore.js';
import { etcdSuite } from './suites/etcd.js';
import { localSuite } from './suites/local.js';
import { memcachedSuite } from './suites/memcached.js';
import { otelSuite } from './suites/otel.js';
import { redisSuite } from './suites/redis.js';

/** Every suite by name, in the order a full `pnpm bench` runs them. */
export const SUITES: Record<string, () => Promise<Suite>> = {
  local: localSuite,
  redis: redisSuite,
  memcached: memcachedSuite,
  etcd: etcdSuite,
  otel: () => otelSuite('redis'),
  'otel-local': () => otelSuite('local'),
  'otel-cost': () => otelSuite('redis', 'cost'),
  mongodb: mongodbSuite,
  dynamodb: dynamodbSuite,
  firestore: firestoreSuite,
};

/** The server whose own statistics count a suite's commands, for suites that have one. */
export const SERVER_OF: Record<string, ServerKind> = {
  redis: 'redis',
  memcached: 'memcached',
  etcd: 'etcd',
  otel: 'redis',
  'otel-cost': 'redis',
};

/** The suite called `name`, or an error naming the known ones. */
export function suiteFactory(name: string): () => Promise<Suite> {
  const make = SUITES[name];
  if (make === undefined)
    throw new Error(`unknown suite "${name}" (known: ${Object.keys(SUITES).join(', ')})`);
  return make;
}
