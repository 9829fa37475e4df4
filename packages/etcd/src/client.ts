import { Etcd3, GRPCDeadlineExceededError, type IOptions, isRecoverableError } from 'etcd3';
import type { AttemptTracker } from './attempts.js';
import { OpenStreams } from './open-streams.js';
import type { ResolvedOptions } from './options.js';

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type Policy = NonNullable<FaultHandling['global']>;
type Backoff = NonNullable<FaultHandling['watchBackoff']>;

/** Delay before the driver re-opens a broken watch stream: short, so waiters see failover. */
const WATCH_RETRY_MS = 100;

/**
 * Builds the `etcd3` client for a backend. The driver's defaults are replaced where they would
 * make a down cluster slow to report: its circuit breaker (which holds a host closed for 5 s)
 * is gone; a failed call is retried only on another member, once per member, with no delay, and
 * never once the backend gave up on it; a broken watch stream re-opens after 100 ms instead of
 * an exponential backoff up to 30 s; and every unary call carries a gRPC deadline. Our own
 * timers bound every call on top of that.
 *
 * A retried call may have been applied by the member that failed to answer it. Every write the
 * backend sends is safe to send twice, and says so: an acquire recognises its own entry as a
 * grant, a queue entry is written only if absent, deletes and lease moves are guarded by the
 * entry's create revision. The one answer a retry changes is a release's: the first attempt may
 * have deleted the entry, so the retry finds none; `tracker` tells the backend how many attempts
 * a call took, so it can count that as the release it was.
 *
 * Every stream the client opens is recorded in `streams`, which the backend's `close()` cancels:
 * closing the client alone leaves them running (see {@link OpenStreams}).
 */
export function createClient(
  options: ResolvedOptions,
  tracker: AttemptTracker,
  streams: OpenStreams = new OpenStreams(),
): Etcd3 {
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
    defaultCallOptions: (context) =>
      context.isStream ? { interceptors: [streams.interceptor] } : deadline(),
    faultHandling: {
      host: () => passThrough(),
      global: failover(options.hosts.length, tracker),
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

/**
 * Tries a call on up to `members` members (the driver picks the next one each time), recording
 * the attempts in the call's record. It starts no attempt once the backend gave up on the call,
 * and none after a gRPC deadline: that attempt used the call's whole time (the gRPC deadline is
 * the backend's own, and its timer may fire a moment before the backend's does).
 */
function failover(members: number, tracker: AttemptTracker): Policy {
  return policy((fn) => {
    const attempts = tracker.take(); // synchronously, before any other call can start
    const signal = new AbortController().signal;
    return (async () => {
      for (;;) {
        attempts.count += 1;
        try {
          return await fn({ signal });
        } catch (error) {
          const retry =
            attempts.count < members &&
            !attempts.abandoned &&
            error instanceof Error &&
            isRecoverableError(error) &&
            !(error instanceof GRPCDeadlineExceededError);
          if (!retry) throw error;
        }
      }
    })();
  });
}

function constantBackoff(ms: number): Backoff {
  const backoff = { duration: ms, next: () => backoff };
  return { next: () => backoff } as unknown as Backoff;
}
