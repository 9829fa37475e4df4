import type { FaultMode } from '@lock/testkit/servers';
import { etcdCompact, etcdLeader } from '../harness/etcd-members.js';
import type { JsonlLog } from '../history/jsonl-log.js';
import type { SeededRandom } from '../seeded-random.js';
import type { InProcessFault } from '../worker/protocol.js';
import type { Topology } from './topology.js';
import type { WorkerProcess } from './worker-process.js';

/** Someone holding a key right now, as the workers report it. */
export interface Holding {
  readonly actor: string;
  readonly key: string;
  readonly hold: string;
}

/** A holding and when the orchestrator heard of it. */
interface Heard extends Holding {
  readonly since: number;
}

/** What the run gives the context it cannot make itself. */
export interface RunHooks {
  /** The live workload processes by name (not the probe). */
  workers(): ReadonlyMap<string, WorkerProcess>;
  /** Ids of the live workload actors (one per process, several in the in-process worker). */
  actors(): readonly string[];
  /** The process that hosts `actor`. */
  processOf(actor: string): WorkerProcess | undefined;
  /** Starts a replacement for a killed worker. */
  respawn(name: string): Promise<void>;
}

/** A fault in progress: resolves when it has been undone. */
interface ActiveFault {
  readonly heal: () => Promise<void>;
}

/**
 * What a scenario's nemesis works with: seeded random numbers, the servers, the workers and
 * their proxies, who holds what, and faults that log themselves, undo themselves after their
 * time (or at once when the run's time is up), and can all be healed in one call.
 */
export class RunContext {
  readonly random: SeededRandom;
  readonly topology: Topology;
  /** Aborted when the run's fault phase is over. */
  readonly signal: AbortSignal;
  readonly #log: JsonlLog;
  readonly #hooks: RunHooks;
  readonly #holders = new Map<string, Heard>();
  readonly #active = new Set<ActiveFault>();
  readonly #background = new Set<Promise<void>>();
  /** Extra figures a scenario reports (evictions…). */
  readonly figures: Record<string, number> = {};

  constructor(
    random: SeededRandom,
    topology: Topology,
    signal: AbortSignal,
    log: JsonlLog,
    hooks: RunHooks,
  ) {
    this.random = random;
    this.topology = topology;
    this.signal = signal;
    this.#log = log;
    this.#hooks = hooks;
  }

  /** The target's TTL. */
  get ttlMs(): number {
    return this.topology.target.ttlMs;
  }

  /** Records a worker's report of a grant or a release. */
  noteHeld(holding: Holding, held: boolean): void {
    if (held) this.#holders.set(holding.actor, { ...holding, since: performance.now() });
    else if (this.#holders.get(holding.actor)?.hold === holding.hold)
      this.#holders.delete(holding.actor);
  }

  /** Forgets what a dead worker held. */
  forgetActor(actor: string): void {
    this.#holders.delete(actor);
  }

  /** Sleeps `ms`; resolves false at once if the fault phase ends first. */
  sleep(ms: number): Promise<boolean> {
    if (this.signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        this.signal.removeEventListener('abort', onAbort);
        resolve(value);
      };
      const onAbort = () => done(false);
      const timer = Number.isFinite(ms) ? setTimeout(() => done(true), ms) : undefined;
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Names of the live workload processes. */
  workerNames(): string[] {
    return [...this.#hooks.workers().keys()];
  }

  /** Ids of the live workload actors. */
  actorNames(): string[] {
    return [...this.#hooks.actors()];
  }

  /**
   * A holder right now, waiting up to `timeoutMs` for one (undefined if none came). Only a
   * grant heard of in the last `freshMs` counts, so that the fault lands in the middle of a
   * hold rather than on a holder that may already be releasing.
   */
  async waitForHolder(
    timeoutMs = 5_000,
    key?: string,
    freshMs = 100,
  ): Promise<Holding | undefined> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline && !this.signal.aborted) {
      const now = performance.now();
      const holders = [...this.#holders.values()].filter(
        (h) => (key === undefined || h.key === key) && now - h.since <= freshMs,
      );
      const alive = holders.filter((h) => {
        const worker = this.#hooks.processOf(h.actor);
        return worker?.alive === true && !worker.paused;
      });
      if (alive.length > 0) {
        const { since: _since, ...holding } = this.random.pick(alive);
        return holding;
      }
      if (!(await this.sleep(5))) return undefined;
    }
    return undefined;
  }

  /**
   * Makes a fault: logs it, applies it, and undoes it after `ms` (or when the run's fault phase
   * ends). Resolves once it has been undone.
   */
  async fault(
    action: string,
    target: string,
    ms: number,
    apply: () => void | Promise<void>,
    undo: () => void | Promise<void>,
    disruptive = true,
  ): Promise<void> {
    await this.#makeFault(action, target, ms, apply, undo, disruptive).finished;
  }

  /** Like {@link RunContext.fault}, but returns once the fault is in place. */
  startFault(
    action: string,
    target: string,
    ms: number,
    apply: () => void | Promise<void>,
    undo: () => void | Promise<void>,
    disruptive = true,
  ): Promise<void> {
    return this.#makeFault(action, target, ms, apply, undo, disruptive).applied;
  }

  #makeFault(
    action: string,
    target: string,
    ms: number,
    apply: () => void | Promise<void>,
    undo: () => void | Promise<void>,
    disruptive: boolean,
  ): { applied: Promise<void>; finished: Promise<void> } {
    let healed: Promise<void> | undefined;
    const active: ActiveFault = {
      heal: () => {
        healed ??= (async () => {
          this.#active.delete(active);
          await undo();
          this.#log.write({ type: 'fault', action: `heal ${action}`, target, disruptive: false });
        })();
        return healed;
      },
    };
    this.#log.write({ type: 'fault', action, target, disruptive });
    this.#active.add(active);
    const applied = Promise.resolve(apply());
    const finished = applied.then(async () => {
      await this.sleep(ms);
      await active.heal();
    });
    this.#background.add(finished);
    void finished.finally(() => this.#background.delete(finished));
    return { applied: applied.then(() => undefined), finished };
  }

  /** Stops worker process `name` (SIGSTOP) for `ms`. */
  pauseWorker(name: string, ms: number): Promise<void> {
    const worker = this.#hooks.workers().get(name);
    if (worker === undefined) return Promise.resolve();
    return this.fault(
      'pause worker',
      name,
      ms,
      () => {
        // Logged before the stop: SIGSTOP takes effect at once, the wait for every thread to
        // stop (inside pause()) can take tens of milliseconds on a busy machine.
        this.#log.write({ type: 'worker-pause', worker: name });
        worker.pause();
      },
      () => {
        worker.resume();
        this.#log.write({ type: 'worker-resume', worker: name });
      },
    );
  }

  /** Kills worker process `name` (SIGKILL) and starts a replacement. */
  async killWorker(name: string): Promise<void> {
    const worker = this.#hooks.workers().get(name);
    if (worker === undefined) return;
    this.#log.write({ type: 'fault', action: 'kill worker', target: name, disruptive: true });
    await worker.kill();
    this.#log.write({ type: 'worker-kill', worker: name });
    this.forgetActor(name);
    await this.#hooks.respawn(name);
  }

  /** Freezes server `i` (SIGSTOP) for `ms`. */
  pauseServer(i: number, ms: number): Promise<void> {
    const server = this.topology.servers[i];
    if (server === undefined) return Promise.resolve();
    return this.fault(
      'pause server',
      server.launch.label,
      ms,
      () => server.pause(),
      () => server.resume(),
    );
  }

  /** Crashes server `i` (SIGKILL) and starts it again after `downMs`, with or without its data. */
  restartServer(i: number, options: { keepData: boolean; downMs: number }): Promise<void> {
    const server = this.topology.servers[i];
    if (server === undefined) return Promise.resolve();
    const action = options.keepData ? 'restart server keeping data' : 'restart server without data';
    return this.fault(
      action,
      server.launch.label,
      options.downMs,
      () => server.kill(),
      async () => {
        if (!options.keepData) await server.restart({ keepData: false, downMs: 0 });
        else await server.start();
      },
    );
  }

  /** Puts the proxies of `clients` to servers `servers` in `mode` for `ms`. */
  proxyFault(
    clients: readonly string[],
    servers: readonly number[],
    mode: FaultMode,
    ms: number,
  ): Promise<void> {
    return this.fault(...this.#proxyFault(clients, servers, mode, ms));
  }

  /** Like {@link RunContext.proxyFault}, but returns once the fault is in place. */
  startProxyFault(
    clients: readonly string[],
    servers: readonly number[],
    mode: FaultMode,
    ms: number,
  ): Promise<void> {
    return this.startFault(...this.#proxyFault(clients, servers, mode, ms));
  }

  #proxyFault(
    clients: readonly string[],
    servers: readonly number[],
    mode: FaultMode,
    ms: number,
  ): Parameters<RunContext['startFault']> {
    const proxies = clients.flatMap((client) =>
      servers.map((i) => this.topology.proxiesOf(client)[i]).filter((p) => p !== undefined),
    );
    const detail =
      mode.kind === 'delay' ? `delay ${mode.upMs ?? 0}/${mode.downMs ?? 0} ms` : mode.kind;
    return [
      `proxy ${detail}`,
      `${clients.join('+')} → ${servers.map((i) => this.topology.servers[i]?.launch.label).join('+')}`,
      ms,
      async () => {
        await Promise.all(proxies.map((proxy) => proxy.set(mode)));
      },
      async () => {
        await Promise.all(proxies.map((proxy) => proxy.set({ kind: 'pass' })));
      },
    ];
  }

  /** Makes the in-process backend of `actor` fail or hang `methods` for `ms`. */
  inProcessFault(
    actor: string,
    fault: InProcessFault,
    methods: readonly ('acquire' | 'extend' | 'release' | 'inspect')[],
    ms: number,
  ): Promise<void> {
    const worker = this.#hooks.processOf(actor);
    return this.fault(
      `in-process ${fault} ${methods.join('+')}`,
      actor,
      ms,
      () => worker?.send({ cmd: 'fault', actor, fault, methods }),
      () => worker?.send({ cmd: 'fault', actor, fault: 'none', methods }),
    );
  }

  /** Cuts servers `a` off from servers `b` (network lab) for `ms`. */
  partitionServers(a: readonly number[], b: readonly number[], ms: number): Promise<void> {
    const lab = this.topology.lab;
    if (lab === undefined) return Promise.resolve();
    return this.fault(
      'partition servers',
      `${a.map((i) => i + 1).join(',')} | ${b.map((i) => i + 1).join(',')}`,
      ms,
      () => lab.cut(a, b),
      () => lab.heal(),
    );
  }

  /** Cuts server `i` off from every client (network lab) for `ms`. */
  cutServerFromClients(i: number, ms: number): Promise<void> {
    const lab = this.topology.lab;
    if (lab === undefined) return Promise.resolve();
    return this.fault(
      'partition server from clients',
      String(i + 1),
      ms,
      () => lab.cutFromClients(i),
      () => lab.heal(),
    );
  }

  /** The client endpoints of the etcd members, for the gateway calls. */
  #etcdEndpoints(): string[] {
    return this.topology.servers.map((_, i) => {
      const e = this.topology.endpoint(i);
      return `http://${e.host}:${e.port}`;
    });
  }

  /** Index of the etcd leader, or -1. */
  etcdLeader(): Promise<number> {
    return etcdLeader(this.#etcdEndpoints(), this.topology.clientNetns);
  }

  /** Compacts etcd's history at its current revision (a non-disruptive fault). */
  async compact(): Promise<void> {
    const revision = await etcdCompact(this.#etcdEndpoints(), this.topology.clientNetns).catch(
      () => 0,
    );
    this.#log.write({
      type: 'fault',
      action: `compact at revision ${revision}`,
      target: 'etcd',
      disruptive: false,
    });
  }

  /** Writes a fault-free note in the nemesis log (a figure, a decision). */
  note(action: string, target: string): void {
    this.#log.write({ type: 'fault', action, target, disruptive: false });
  }

  /** Undoes every fault still in place, and waits for every background heal. */
  async healAll(): Promise<void> {
    await Promise.all([...this.#active].map((fault) => fault.heal()));
    await Promise.all([...this.#background]);
    for (const server of this.topology.servers) {
      if (server.paused) server.resume();
      if (!server.running) await server.start();
    }
    await Promise.all(this.topology.proxies.map((proxy) => proxy.set({ kind: 'pass' })));
    await this.topology.lab?.heal();
    for (const [name, worker] of this.#hooks.workers()) {
      if (worker.paused) {
        worker.resume();
        this.#log.write({ type: 'worker-resume', worker: name });
      }
    }
  }
}
