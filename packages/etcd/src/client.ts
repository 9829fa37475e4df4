import { Etcd3, type IOptions, isRecoverableError } from 'etcd3';
import type { ResolvedOptions } from './options.js';

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type Policy = NonNullable<FaultHandling['global']>;
type Backoff = NonNullable<FaultHandling['watchBackoff']>;

/** Delay before the driver re-opens a broken watch stream: short, so waiters see failover. */
const WATCH_RETRY_MS = 100;

/**
 * Builds the `etcd3` client for a backend. The driver's defaults are replaced where they would
 * make a down cluster slow to report: its circuit breaker (which holds a host closed for 5 s)
 * is gone; a failed call is retried only on another member, once per member, with no delay; a
 * broken watch stream re-opens after 100 ms instead of an exponential backoff up to 30 s; and
 * every unary call carries a gRPC deadline. Our own timers bound every call on top of that.
 */
export function createClient(options: ResolvedOptions): Etcd3 {
  const grpcOptions: Record<string, number> = {};
  if (options.keepAliveTimeMs !== undefined) {
    grpcOptions['grpc.keepalive_time_ms'] = options.keepAliveTimeMs;
  }
  if (options.keepAliveTimeoutMs !== undefined) {
    grpcOptions['grpc.keepalive_timeout_ms'] = options.keepAliveTimeoutMs;
  }
  const deadline = () => ({ deadline: Date.now() + options.requestTimeoutMs });
  const clientOptions: IOptions = {
    hosts: options.hosts,
    grpcOptions,
    defaultCallOptions: (context) => (context.isStream ? {} : deadline()),
    faultHandling: {
      host: () => passThrough(),
      global: failover(options.hosts.length),
      watchBackoff: constantBackoff(WATCH_RETRY_MS),
    },
  };
  if (options.auth !== undefined) {
    clientOptions.auth = { ...options.auth, callOptions: deadline };
  }
  if (options.tls !== undefined) {
    clientOptions.credentials = {
      rootCertificate: options.tls.rootCertificate,
      ...(options.tls.privateKey === undefined ? {} : { privateKey: options.tls.privateKey }),
      ...(options.tls.certChain === undefined ? {} : { certChain: options.tls.certChain }),
    };
  }
  return new Etcd3(clientOptions);
}

/** The parts of a cockatiel policy the driver uses: `execute`, plus inert events. */
function policy(execute: (fn: (context: { signal: AbortSignal }) => unknown) => unknown): Policy {
  const noEvent = () => ({ dispose() {} });
  return { execute, onSuccess: noEvent, onFailure: noEvent } as unknown as Policy;
}

/** Runs each call once on its host (no circuit breaker). */
function passThrough(): Policy {
  return policy(async (fn) => fn({ signal: new AbortController().signal }));
}

/** Tries a call on up to `attempts` members (the driver picks a new one each time). */
function failover(attempts: number): Policy {
  return policy(async (fn) => {
    const signal = new AbortController().signal;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn({ signal });
      } catch (error) {
        if (attempt >= attempts || !(error instanceof Error) || !isRecoverableError(error)) {
          throw error;
        }
      }
    }
  });
}

function constantBackoff(ms: number): Backoff {
  const backoff = { duration: ms, next: () => backoff };
  return { next: () => backoff } as unknown as Backoff;
}
