import { checkOptions, checkPositive, InvalidArgumentError } from '@lock/core';
import type { RedisClientOptions, RedisClusterOptions } from 'redis';
import type { RedisClientLike, RedisClusterLike } from './client-types.js';

/**
 * Options of {@link RedisBackend}. Give exactly one of `client`, `cluster`, `url`,
 * `clientOptions` or `clusterOptions`.
 */
export interface RedisBackendOptions {
  /**
   * A standalone node-redis client you created. You keep owning it: `close()` never quits it.
   * The backend connects it if it is not open yet, and duplicates it once for pub/sub.
   */
  readonly client?: RedisClientLike;
  /** A node-redis Cluster client (`createCluster()`) you created and keep owning. */
  readonly cluster?: RedisClusterLike;
  /**
   * `redis[s]://[[user][:password]@]host[:port][/db]`: the backend creates, owns and closes
   * its clients.
   */
  readonly url?: string;
  /** node-redis `createClient` options for clients the backend creates, owns and closes. */
  readonly clientOptions?: RedisClientOptions;
  /**
   * node-redis `createCluster` options (`rootNodes`, `defaults` for credentials and TLS) for a
   * Cluster client the backend creates, owns and closes.
   */
  readonly clusterOptions?: RedisClusterOptions;
  /**
   * Prefix of every Redis key and channel this backend uses.
   * @default "lock:"
   */
  readonly prefix?: string;
  /**
   * Longest wait for a connection, in milliseconds, by our own timer.
   * @default 2000
   */
  readonly connectTimeout?: number;
  /**
   * Longest wait for any reply, in milliseconds, by our own clock (one sweep for all commands).
   * @default 2000
   */
  readonly commandTimeout?: number;
  /**
   * Waiting is always fair, first come first served (a queue per key in Redis, handoff in line
   * order), and costs nothing while nobody waits.
   * @deprecated `fair: false` is accepted and means the same as the default: the unfair mode it
   * used to select was no faster uncontended than fair mode is now, and under contention it let
   * one process take every acquisition while the others timed out.
   * @default true
   */
  readonly fair?: boolean;
  /**
   * Fair mode: how often a queued waiter re-checks and refreshes its place, in ms (the safety
   * poll behind pub/sub notifications).
   * @default 1000
   */
  readonly queuePollInterval?: number;
  /**
   * Fair mode: how long a waiter's place lasts without a refresh, in ms; a waiter that died in
   * the queue is skipped after this. Must be at least twice `queuePollInterval`.
   * @default 5000
   */
  readonly queueEntryTtl?: number;
  /**
   * Check `maxmemory-policy` on connect and warn once if Redis may evict lock keys.
   * @default true
   */
  readonly checkEvictionPolicy?: boolean;
  /**
   * Where warnings go (risky eviction policy, pub/sub refused). Never given secrets.
   * @default a one-line `console.warn`
   */
  readonly onWarning?: (message: string) => void;
}

/** The options that tune a backend, whatever its client comes from. */
const TUNING_OPTION_NAMES = [
  'prefix',
  'connectTimeout',
  'commandTimeout',
  'fair',
  'queuePollInterval',
  'queueEntryTtl',
  'checkEvictionPolicy',
  'onWarning',
] as const;

/** Every option name {@link RedisBackendOptions} accepts. */
export const REDIS_BACKEND_OPTION_NAMES = [
  'client',
  'cluster',
  'url',
  'clientOptions',
  'clusterOptions',
  ...TUNING_OPTION_NAMES,
] as const;

/** Options `openBackend` takes with `redis://` and `redis-cluster://` (and their TLS forms). */
export const REDIS_URI_OPTION_NAMES = [...TUNING_OPTION_NAMES, 'tls'] as const;

/** {@link RedisBackendOptions} with defaults applied. */
export interface ResolvedOptions {
  readonly prefix: string;
  readonly connectTimeout: number;
  readonly commandTimeout: number;
  /** Fair queueing; off only for the nodes of a Redlock quorum. */
  readonly fair: boolean;
  readonly queuePollInterval: number;
  readonly queueEntryTtl: number;
  readonly checkEvictionPolicy: boolean;
  readonly onWarning: (message: string) => void;
}

/**
 * Checks `options` (throwing `InvalidArgumentError` naming the option) and applies defaults.
 * @param redlockNode whether the backend is a node of a Redlock quorum (never fair).
 */
export function resolveOptions(options: RedisBackendOptions, redlockNode = false): ResolvedOptions {
  checkOptions(options, 'options', REDIS_BACKEND_OPTION_NAMES);
  const sources = (['client', 'cluster', 'url', 'clientOptions', 'clusterOptions'] as const).filter(
    (name) => options[name] !== undefined,
  );
  const given = sources.filter((name) => name !== 'clientOptions' || !sources.includes('url'));
  if (given.length !== 1) {
    throw new InvalidArgumentError(
      'options',
      sources.join(', ') || 'none',
      'must give exactly one of client, cluster, url, clientOptions or clusterOptions (url may come with clientOptions)',
    );
  }
  if (options.url !== undefined && typeof options.url !== 'string') {
    throw new InvalidArgumentError('options.url', options.url, 'must be a string');
  }
  const prefix = options.prefix ?? 'lock:';
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new InvalidArgumentError('options.prefix', prefix, 'must be a string without { or }');
  }
  const connectTimeout = options.connectTimeout ?? 2_000;
  checkPositive(connectTimeout, 'options.connectTimeout');
  const commandTimeout = options.commandTimeout ?? 2_000;
  checkPositive(commandTimeout, 'options.commandTimeout');
  const fair = options.fair ?? true;
  if (typeof fair !== 'boolean')
    throw new InvalidArgumentError('options.fair', fair, 'must be a boolean');
  // `fair: false` is deprecated and means the same as fair (see RedisBackendOptions.fair).
  const queuePollInterval = options.queuePollInterval ?? 1_000;
  checkPositive(queuePollInterval, 'options.queuePollInterval');
  const queueEntryTtl = options.queueEntryTtl ?? Math.max(5_000, 3 * queuePollInterval);
  checkPositive(queueEntryTtl, 'options.queueEntryTtl');
  if (queueEntryTtl < 2 * queuePollInterval) {
    throw new InvalidArgumentError(
      'options.queueEntryTtl',
      queueEntryTtl,
      `must be at least twice options.queuePollInterval (${queuePollInterval})`,
    );
  }
  const checkEvictionPolicy = options.checkEvictionPolicy ?? true;
  if (typeof checkEvictionPolicy !== 'boolean') {
    throw new InvalidArgumentError(
      'options.checkEvictionPolicy',
      checkEvictionPolicy,
      'must be a boolean',
    );
  }
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function') {
    throw new InvalidArgumentError('options.onWarning', options.onWarning, 'must be a function');
  }
  return {
    prefix,
    connectTimeout,
    commandTimeout,
    fair: !redlockNode,
    queuePollInterval,
    queueEntryTtl,
    checkEvictionPolicy,
    onWarning: options.onWarning ?? ((message) => console.warn(`[@lock/redis] ${message}`)),
  };
}
