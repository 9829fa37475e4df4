import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCheckers } from '../checkers/run-checkers.js';
import type { CheckContext, CheckResult } from '../checkers/types.js';
import { JsonlLog } from '../history/jsonl-log.js';
import { loadEvents } from '../history/load.js';
import { buildHistory } from '../history/model.js';
import { baseWorkload, type ScenarioDef } from '../plan/scenario.js';
import type { TargetDef } from '../plan/targets.js';
import { type Judged, judge } from '../report/verdict.js';
import { deriveSeed, SeededRandom } from '../seeded-random.js';
import type {
  BackendConfig,
  ClientConfig,
  FromWorker,
  RequestedFault,
  WorkerConfig,
  Workload,
} from '../worker/protocol.js';
import type { Bundle } from './bundle.js';
import { RunContext } from './run-context.js';
import { Topology } from './topology.js';
import { WorkerProcess } from './worker-process.js';

/** The actor that probes liveness after the heal. */
export const PROBE = 'probe';

/** One run of one scenario on one target. */
export interface RunRequest {
  readonly target: TargetDef;
  readonly scenario: ScenarioDef;
  readonly seed: number;
  /** The library the workers use (the probe always uses `@lock/core`). */
  readonly client: ClientConfig;
  /** Workers (and probe) use the raw node-redis store of `variants/` instead of `@lock/redis`. */
  readonly rawRedis?: boolean;
  readonly workers: number;
  readonly runDir: string;
  readonly bundle: Bundle;
  /** Overrides the scenario's duration. */
  readonly durationMs?: number;
  /** Keep the logs even when the run passes. */
  readonly keepLogs?: boolean;
}

/** What one run found. */
export interface RunOutcome {
  readonly target: string;
  readonly scenario: string;
  readonly seed: number;
  readonly results: readonly CheckResult[];
  readonly judged: Judged;
  /** A failure of the harness itself (the run's checks are then incomplete). */
  readonly error: string | undefined;
  readonly wallMs: number;
  /** Extra figures (evictions, warnings). */
  readonly figures: Readonly<Record<string, number>>;
  /** Where the logs are (removed when the run passed, unless kept). */
  readonly logDir: string | undefined;
}

const READY_TIMEOUT_MS = 30_000;

/**
 * Runs one scenario once: starts the servers, the fenced resource and the workers (separate
 * processes), lets the nemesis make faults for the scenario's duration, heals everything,
 * probes that every key can be taken, closes the workers, and runs every checker over the
 * merged logs.
 */
export async function runOnce(request: RunRequest): Promise<RunOutcome> {
  const started = performance.now();
  const { target, scenario, seed, bundle, runDir } = request;
  // A replay of a seed gets the same folder: start it empty, or the history would merge the
  // old run's events with this one's (seen as fences "handed out twice").
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const log = new JsonlLog(join(runDir, 'nemesis.jsonl'), 'nemesis');
  const prefix = `chaos${seed.toString(36)}${randomBytes(3).toString('hex')}:`;
  const baseLoad = baseWorkload(target);
  const workload: Workload = scenario.workload?.(baseLoad, target) ?? baseLoad;
  const durationMs = request.durationMs ?? scenario.durationMs;
  const serverTtlMs = target.serverTtlFor(workload.ttlMs);
  const livenessBoundMs = serverTtlMs + target.retryMs + 1_000;
  const random = new SeededRandom(seed);
  const workers = new Map<string, WorkerProcess>();
  const actorsOf = new Map<string, string[]>();
  const processes: WorkerProcess[] = [];
  let topology: Topology | undefined;
  let context: RunContext | undefined;
  let error: string | undefined;
  let nextWorker = request.workers;
  const local = target.name === 'local';
  const probeClient: ClientConfig = {
    kind: 'core',
    flaws: [],
    wrappers: [],
    pollIntervalMs: target.pollIntervalMs,
  };

  const storeOf = (config: BackendConfig): BackendConfig =>
    request.rawRedis && config.kind === 'redis'
      ? { kind: 'raw-redis', prefix: config.prefix, url: config.url }
      : config;

  async function spawn(
    name: string,
    actors: string[],
    probeActor: string | undefined,
    client: ClientConfig,
    resourcePort: number,
  ): Promise<WorkerProcess> {
    const backend = storeOf(await (topology as Topology).addClient(name));
    const config: WorkerConfig = {
      process: name,
      actors,
      probeActor,
      logPath: join(runDir, `${name}.jsonl`),
      seed: deriveSeed(seed, name),
      backend,
      client,
      workload,
      resourcePort,
      opBoundMs: target.opBoundMs,
    };
    const worker = WorkerProcess.worker(
      bundle.worker,
      config,
      topology?.clientNetns,
      join(runDir, `${name}.err`),
    );
    processes.push(worker);
    worker.onMessage((message) => onMessage(worker, message));
    const ready = await worker.waitFor(
      (m) => (m.evt === 'ready' ? true : undefined),
      READY_TIMEOUT_MS,
    );
    if (!ready) throw new Error(`worker ${name} did not start (see ${name}.err)`);
    actorsOf.set(name, actors);
    return worker;
  }

  function onMessage(worker: WorkerProcess, message: FromWorker): void {
    if (message.evt === 'held' || message.evt === 'released') {
      context?.noteHeld(
        { actor: message.actor, key: message.key, hold: message.hold },
        message.evt === 'held',
      );
    } else if (message.evt === 'request') {
      void applyRequest(message.actor, message.fault).then(() =>
        worker.send({ cmd: 'ack', id: message.id }),
      );
    }
  }

  async function applyRequest(actor: string, fault: RequestedFault): Promise<void> {
    if (context === undefined || topology?.lab !== undefined) return;
    const servers = topology?.servers.map((_, i) => i) ?? [];
    if (fault.kind === 'cut-off') {
      await context.startProxyFault([actor], servers, { kind: 'blackhole' }, fault.ms);
    } else {
      await context.startProxyFault(
        [actor],
        servers,
        { kind: 'delay', upMs: fault.upMs },
        fault.ms,
      );
    }
  }

  let results: CheckResult[] = [];
  try {
    topology = await Topology.start(target, runDir, scenario.servers ?? {}, prefix);
    const resource = WorkerProcess.start(
      'resource',
      bundle.resource,
      [join(runDir, 'resource.jsonl')],
      {
        netns: topology.clientNetns,
        stderrPath: join(runDir, 'resource.err'),
      },
    );
    processes.push(resource);
    const resourcePort = await resource.waitFor(
      (m) =>
        (m as unknown as { evt: string }).evt === 'listening'
          ? (m as unknown as { port: number }).port
          : undefined,
      READY_TIMEOUT_MS,
    );
    if (resourcePort === undefined) throw new Error('the fenced resource did not start');

    const workerNames = Array.from({ length: request.workers }, (_, i) => `w${i + 1}`);
    let probe: WorkerProcess;
    if (local) {
      const only = await spawn('local', workerNames, PROBE, request.client, resourcePort);
      workers.set('local', only);
      probe = only;
    } else {
      const started = await Promise.all([
        ...workerNames.map((name) => spawn(name, [name], undefined, request.client, resourcePort)),
        spawn(PROBE, [], PROBE, probeClient, resourcePort),
      ]);
      for (const [i, name] of workerNames.entries()) workers.set(name, started[i] as WorkerProcess);
      probe = started[started.length - 1] as WorkerProcess;
    }

    const phase = new AbortController();
    context = new RunContext(random, topology, phase.signal, log, {
      workers: () => workers,
      actors: () => [...workers.keys()].flatMap((name) => actorsOf.get(name) ?? []),
      processOf: (actor) => workers.get(local ? 'local' : actor),
      respawn: async (name) => {
        workers.delete(name);
        const replacement = `w${++nextWorker}`;
        const worker = await spawn(
          replacement,
          [replacement],
          undefined,
          request.client,
          resourcePort,
        );
        workers.set(replacement, worker);
        worker.send({ cmd: 'start' });
      },
    });
    log.write({ type: 'phase', phase: 'start' });
    for (const worker of workers.values()) worker.send({ cmd: 'start' });
    const timer = setTimeout(() => phase.abort(), durationMs);
    let nemesisError: unknown;
    const nemesis = scenario.nemesis(context).catch((e: unknown) => {
      nemesisError = e;
    });
    await new Promise<void>((resolve) =>
      phase.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    clearTimeout(timer);
    let stuck: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([nemesis, new Promise((resolve) => (stuck = setTimeout(resolve, 30_000)))]);
    clearTimeout(stuck);
    await context.healAll();
    log.write({ type: 'phase', phase: 'heal' });
    if (nemesisError !== undefined) throw nemesisError;

    const live = [...workers.values()];
    for (const worker of live) worker.send({ cmd: 'quiesce' });
    probe.send({ cmd: 'probe', keys: workload.keys, timeoutMs: livenessBoundMs + 1_000 });
    const quiesceMs = workload.lockTimeoutMs + target.opBoundMs + 5_000;
    await Promise.all([
      ...live.map((worker) =>
        worker.waitFor((m) => (m.evt === 'quiesced' ? true : undefined), quiesceMs),
      ),
      probe.waitFor((m) => (m.evt === 'probed' ? true : undefined), livenessBoundMs + 6_000),
    ]);
    const closing = [...new Set([...live, probe])];
    for (const worker of closing) worker.send({ cmd: 'close' });
    // close() may release held locks (each bounded by the backend's deadline); then a worker
    // that has nothing left open exits at once.
    await Promise.all(
      closing.map((worker) => exitWithin(worker, 2 * target.opBoundMs + 2_000, log)),
    );
    resource.send({ cmd: 'stop' });
    await exitWithin(resource, 3_000, undefined);
  } catch (caught) {
    error = caught instanceof Error ? caught.message : String(caught);
  } finally {
    await Promise.all(processes.map((p) => p.kill()));
    await topology?.stop().catch(() => {});
    log.write({ type: 'phase', phase: 'end' });
    log.close();
  }

  const history = buildHistory(loadEvents(runDir));
  const checkContext: CheckContext = {
    ttlMs: workload.ttlMs,
    serverTtlMs,
    retryMs: target.retryMs,
    callSlackMs: 250,
    lossExpected: scenario.lossExpected,
    handoverBoundMs: scenario.handoverBoundMs,
    takeover: scenario.takeover ?? false,
    keys: workload.keys,
    probeActor: PROBE,
  };
  results = runCheckers(history, checkContext);
  const judged: Judged =
    error === undefined
      ? judge(target.name, scenario, results)
      : { verdict: 'error', notes: [...judge(target.name, scenario, results).notes] };
  const keep =
    request.keepLogs ||
    judged.verdict === 'fail' ||
    judged.verdict === 'error' ||
    judged.verdict === 'known-bug';
  if (!keep) rmSync(runDir, { recursive: true, force: true });
  return {
    target: target.name,
    scenario: scenario.id,
    seed,
    results,
    judged,
    error,
    wallMs: performance.now() - started,
    figures: { ...context?.figures, warnings: history.warnings.length },
    logDir: keep ? runDir : undefined,
  };
}

/** Waits for `worker` to exit by itself; after `ms`, logs that it did not and kills it. */
async function exitWithin(
  worker: WorkerProcess,
  ms: number,
  log: JsonlLog | undefined,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const exited = await Promise.race([worker.exited.then(() => true), late]);
  clearTimeout(timer);
  if (!exited) {
    log?.write({ type: 'no-exit', worker: worker.name });
    await worker.kill();
  }
}
