/**
 * A worker process: one actor (or, for the in-process backend, every actor and the probe)
 * with its own locker, driven over IPC by the orchestrator, logging to its own JSONL file.
 * Config: JSON in the first argument (see `WorkerConfig`).
 */
import type { LockBackend } from '@lock/core';
import { FaultyBackend } from '@lock/testkit/servers';
import { JsonlLog } from '../history/jsonl-log.js';
import { deriveSeed } from '../seeded-random.js';
import { Actor, type ActorContext } from './actor.js';
import { buildClient } from './build-client.js';
import { errorMessage } from './client.js';
import { Heartbeat } from './heartbeat.js';
import { openBackend } from './open-backend.js';
import type { FromWorker, RequestedFault, ToWorker, WorkerConfig } from './protocol.js';
import { ResourceClient } from './resource-client.js';
import { TracingBackend } from './tracing-backend.js';

/** How long after `close()` resources may take to go away before they count as leaked (ms). */
const HANDLE_GRACE_MS = 1_000;

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const log = new JsonlLog(config.logPath, config.process);
const baseline = process.getActiveResourcesInfo();

process.on('unhandledRejection', (reason) => {
  log.write({ type: 'unhandled', error: `unhandled rejection: ${errorMessage(reason)}` });
});
process.on('uncaughtException', (error) => {
  log.write({ type: 'unhandled', error: `uncaught exception: ${errorMessage(error)}` });
});

function send(message: FromWorker): void {
  if (process.connected) process.send?.(message);
}

const acks = new Map<number, () => void>();
let nextRequest = 1;
/** In-process fault injectors, per actor (the local backend only). */
const faulty = new Map<string, FaultyBackend>();

function request(actor: string, fault: RequestedFault): Promise<void> {
  const injector = faulty.get(actor);
  if (injector !== undefined) return cutOffInProcess(actor, injector, fault);
  const id = nextRequest++;
  return new Promise((resolve) => {
    acks.set(id, resolve);
    send({ evt: 'request', id, actor, fault });
  });
}

/** Undo functions of in-process faults still in place (run early on close). */
const inProcessFaults = new Map<ReturnType<typeof setTimeout>, () => void>();

/** The in-process backend has no network to cut: its calls fail instead, for the same time. */
async function cutOffInProcess(
  actor: string,
  injector: FaultyBackend,
  fault: RequestedFault,
): Promise<void> {
  const methods = ['acquire', 'extend', 'release'] as const;
  injector.set(fault.kind === 'cut-off' ? 'fail' : 'hang', ...methods);
  log.write({
    type: 'fault',
    action: `${fault.kind} (in process)`,
    target: actor,
    disruptive: true,
  });
  const undo = () => {
    inProcessFaults.delete(timer);
    injector.set('none', ...methods);
    injector.unhang();
  };
  const timer = setTimeout(undo, fault.ms);
  inProcessFaults.set(timer, undo);
}

const resource = await ResourceClient.connect(config.resourcePort);
const context: ActorContext = {
  log,
  resource,
  workload: config.workload,
  opBoundMs: config.opBoundMs,
  send,
  request,
};
const onWarning = (message: string) => log.write({ type: 'warning', message });
const onError = (error: unknown) => log.write({ type: 'warning', message: errorMessage(error) });

const ids = [...config.actors, ...(config.probeActor === undefined ? [] : [config.probeActor])];
const actors = new Map<string, Actor>();
let shared: LockBackend | undefined;
let sharedStore: unknown;
for (const id of ids) {
  let inner: LockBackend;
  if (config.backend.kind === 'local') {
    const { LocalBackend, LocalStore } = await import('@lock/local');
    const { systemClock } = await import('@lock/core');
    sharedStore ??= new LocalStore(systemClock);
    const injector = new FaultyBackend(
      new LocalBackend({ store: sharedStore as InstanceType<typeof LocalStore> }),
    );
    faulty.set(id, injector);
    inner = injector;
  } else {
    // One process, one actor: the backend is this actor's own.
    shared ??= await openBackend(config.backend, config.client.wrappers, onWarning);
    inner = shared;
  }
  let actor: Actor | undefined;
  const traced = new TracingBackend(inner, {
    onRenewSent: (renewal) => actor?.renewSent(renewal),
    onRenewSettled: () => actor?.checkValidity(),
  });
  const client = buildClient(traced, config.client, {
    identity: `${config.process}-${id}`.replace(/[^A-Za-z0-9._-]/g, '-'),
    ttlMs: config.workload.ttlMs,
    opBoundMs: config.opBoundMs,
    onError,
  });
  actor = new Actor(id, client, context, deriveSeed(config.seed, id));
  actors.set(id, actor);
}
log.write({ type: 'process', actors: ids });
const heartbeat = new Heartbeat(log, () => {
  for (const actor of actors.values()) actor.checkValidity();
});
const workers = config.actors.map((id) => actors.get(id) as Actor);
const probe = config.probeActor === undefined ? undefined : actors.get(config.probeActor);

process.on('message', (message: ToWorker) => {
  switch (message.cmd) {
    case 'start':
      for (const actor of workers) actor.start();
      break;
    case 'quiesce':
      void Promise.all(workers.map((actor) => actor.quiesce())).then(() =>
        send({ evt: 'quiesced' }),
      );
      break;
    case 'probe':
      void probe?.probe(message.keys, message.timeoutMs).then(() => send({ evt: 'probed' }));
      break;
    case 'ack':
      acks.get(message.id)?.();
      acks.delete(message.id);
      break;
    case 'fault': {
      const injector = faulty.get(message.actor);
      injector?.set(message.fault, ...message.methods);
      if (message.fault === 'none') injector?.unhang();
      break;
    }
    case 'close':
      void closeAll();
      break;
  }
});
send({ evt: 'ready' });

async function closeAll(): Promise<void> {
  for (const [timer, undo] of inProcessFaults) {
    clearTimeout(timer);
    undo();
  }
  await Promise.all([...actors.values()].map((actor) => actor.close()));
  heartbeat.stop();
  for (const release of acks.values()) release();
  await resource.close();
  send({ evt: 'closed' });
  // The IPC channel counts as a handle while it is open: judge what is left after it closed.
  process.disconnect?.();
  const leaked = await leakedAfterClose();
  log.write({ type: 'handles', leaked });
  log.close();
}

/** Resources beyond those the process started with, once they had a moment to close. */
async function leakedAfterClose(): Promise<string[]> {
  const deadline = performance.now() + HANDLE_GRACE_MS;
  for (;;) {
    const leaked = difference(process.getActiveResourcesInfo(), baseline);
    if (leaked.length === 0 || performance.now() > deadline) return leaked;
    await new Promise((resolve) => setTimeout(resolve, 50).unref());
  }
}

/** `now` minus `before`, as multisets (the IPC pipe and stdio are in both). */
function difference(now: readonly string[], before: readonly string[]): string[] {
  const left = [...before];
  return now.filter((name) => {
    const index = left.indexOf(name);
    if (index < 0) return true;
    left.splice(index, 1);
    return false;
  });
}
