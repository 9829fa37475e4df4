import { checkOptions, InvalidArgumentError, type OpenContext } from '@lock/core';
import { EtcdBackend } from './etcd-backend.js';
import { ETCD_OPTION_NAMES, type EtcdBackendOptions } from './options.js';
import { parseEtcdUri } from './uri.js';

/**
 * Opens a backend for core's `connect()`, checking the URI and every option and doing no I/O
 * (core then calls `connect()`, one round trip, unless asked to be lazy):
 * `etcd://host1:2379,host2:2379?dial-timeout=2s&username=…&password=…`, or `etcds://` for TLS.
 * `options` (core's `connect(uri, { backend })`) takes any {@link EtcdBackendOptions} except
 * `hosts`, and wins over the URI (pass TLS material as `tls`).
 * @example
 * ```ts
 * import { connect } from '@lock/core';
 * const locker = await connect('etcd://127.0.0.1:2379?dial-timeout=2s', { ttl: 10_000 });
 * ```
 */
export async function openBackend(
  uri: string,
  options?: Record<string, unknown>,
  context?: OpenContext,
): Promise<EtcdBackend> {
  const allowed = ETCD_OPTION_NAMES.filter((name) => name !== 'hosts');
  checkOptions(options, 'options.backend', allowed);
  if (typeof uri !== 'string') throw new InvalidArgumentError('uri', uri, 'must be a string');
  const fromUri = parseEtcdUri(uri);
  // connect() passes what is left of its own timeout: the first contact takes no longer, unless
  // the URI (`dial-timeout`) or the options set a dial timeout of their own.
  const dial =
    fromUri.dialTimeoutMs ??
    (options?.['dialTimeoutMs'] as number | undefined) ??
    context?.connectTimeoutMs;
  return new EtcdBackend({
    ...fromUri,
    ...(dial === undefined ? {} : { dialTimeoutMs: dial }),
    ...(options as EtcdBackendOptions | undefined),
  });
}
