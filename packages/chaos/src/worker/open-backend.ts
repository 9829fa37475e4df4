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
      await warmUp(backend);
      return backend;
    }
    case 'memcached': {
      const { MemcachedBackend } = await import('@lock/memcached');
      const backend = new MemcachedBackend({
        servers: [...config.servers],
        keyPrefix: config.prefix,
        ...config.options,
      });
      await warmUp(backend);
      return backend;
    }
    case 'etcd': {
      const { EtcdBackend } = await import('@lock/etcd');
      const backend = new EtcdBackend({
        hosts: [...config.hosts],
        prefix: config.prefix,
        ...config.options,
      });
      await warmUp(backend);
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

/**
 * One inspect, so that the backend connects now rather than on the run's first call; tried again
 * for up to 10 s, because a loaded machine can take longer than the connect timeout to start
 * three servers' connections (a worker that failed its warm-up was a harness error, not a finding).
 */
async function warmUp(backend: { inspect(key: string): Promise<unknown> }): Promise<void> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    try {
      await backend.inspect('warm-up');
      return;
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
