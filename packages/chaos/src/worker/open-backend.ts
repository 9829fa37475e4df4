import type { LockBackend } from '@lock/core';
import type { BackendConfig, BackendFlaw } from './protocol.js';

/**
 * Opens the backend a worker's config names, importing only that backend's package (a worker
 * starts faster without the others' drivers), and connects it, so that a worker is ready only
 * once it can reach its store. `onWarning` receives the backend's warnings.
 */
export async function openBackend(
  config: BackendConfig,
  flaws: readonly BackendFlaw[],
  onWarning: (message: string) => void,
): Promise<LockBackend> {
  switch (config.kind) {
    case 'local':
      throw new Error('the local backend is opened per actor on a shared store (see local-actors)');
    case 'redis': {
      const { RedisBackend } = await import('@lock/redis');
      const backend = new RedisBackend({
        url: config.url,
        prefix: config.prefix,
        onWarning,
        ...config.options,
      });
      return backend.connect();
    }
    case 'redlock': {
      const { RedlockBackend } = await import('@lock/redis');
      const backend = new RedlockBackend({
        nodes: [...config.nodes],
        prefix: config.prefix,
        onWarning,
        ...config.options,
      });
      // Redlock connects each node on first use; a warm-up inspect makes that happen now.
      await backend.inspect('warm-up');
      return backend;
    }
    case 'memcached': {
      const { MemcachedBackend } = await import('@lock/memcached');
      const backend = new MemcachedBackend({
        servers: [...config.servers],
        keyPrefix: config.prefix,
        ...config.options,
      });
      await backend.inspect('warm-up');
      return backend;
    }
    case 'etcd': {
      const { EtcdBackend } = await import('@lock/etcd');
      const backend = new EtcdBackend({
        hosts: [...config.hosts],
        prefix: config.prefix,
        ...config.options,
      });
      await backend.inspect('warm-up');
      return backend;
    }
    case 'raw-redis': {
      const { RawRedisBackend } = await import('../variants/raw-redis-backend.js');
      return RawRedisBackend.open(config.url, config.prefix, {
        unconditionalDelete: flaws.includes('unconditional-delete'),
      });
    }
  }
}
