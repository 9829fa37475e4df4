import { FaultProxy } from '@lock/testkit/servers';
import { NetLab } from '../harness/netlab.js';
import { ServerProcess } from '../harness/server-process.js';
import type { Endpoint, ServerOptions, TargetDef } from '../plan/targets.js';
import type { BackendConfig } from '../worker/protocol.js';

/**
 * The servers of one run and the way each client reaches them: a fault proxy per client and
 * server (the proxy can delay, blackhole, drop replies, reset, refuse), or, in a network lab,
 * the servers' own addresses (partitions are then `iptables` rules).
 */
export class Topology {
  readonly target: TargetDef;
  readonly servers: readonly ServerProcess[];
  readonly lab: NetLab | undefined;
  readonly #prefix: string;
  readonly #proxies = new Map<string, FaultProxy[]>();

  private constructor(
    target: TargetDef,
    servers: ServerProcess[],
    lab: NetLab | undefined,
    prefix: string,
  ) {
    this.target = target;
    this.servers = servers;
    this.lab = lab;
    this.#prefix = prefix;
  }

  /** Starts the target's servers (in a new network lab when asked). */
  static async start(
    target: TargetDef,
    runDir: string,
    options: ServerOptions,
    prefix: string,
  ): Promise<Topology> {
    let lab: NetLab | undefined;
    const servers: ServerProcess[] = [];
    try {
      if (options.netns) lab = await NetLab.create(3, target.name === 'redlock' ? 'r' : 'e');
      const launches = await target.launches(runDir, options, lab);
      servers.push(...launches.map((launch) => new ServerProcess(launch)));
      await Promise.all(servers.map((server) => server.start()));
    } catch (error) {
      await Promise.all(servers.map((server) => server.stop()));
      await lab?.destroy();
      throw error;
    }
    return new Topology(target, servers, lab, prefix);
  }

  /** Where a client reaches server `i` directly. */
  endpoint(i: number): Endpoint {
    const server = this.servers[i] as ServerProcess;
    return {
      host: this.lab === undefined ? '127.0.0.1' : this.lab.ip(i),
      port: this.target.clientPort(server.launch),
    };
  }

  /** The network namespace clients run in, if any. */
  get clientNetns(): string | undefined {
    return this.lab?.hub;
  }

  /**
   * Makes `client`'s way to every server (its own proxies, outside a lab) and returns its
   * backend config.
   */
  async addClient(client: string): Promise<BackendConfig> {
    const endpoints: Endpoint[] = [];
    if (this.lab !== undefined) {
      for (let i = 0; i < this.servers.length; i++) endpoints.push(this.endpoint(i));
    } else {
      const proxies: FaultProxy[] = [];
      for (let i = 0; i < this.servers.length; i++) {
        const proxy = await FaultProxy.start(this.endpoint(i).port);
        proxies.push(proxy);
        endpoints.push({ host: '127.0.0.1', port: proxy.port });
      }
      this.#proxies.set(client, proxies);
    }
    return this.target.backend(this.#prefix, endpoints);
  }

  /** `client`'s proxies, one per server (none in a lab or for the in-process backend). */
  proxiesOf(client: string): readonly FaultProxy[] {
    return this.#proxies.get(client) ?? [];
  }

  /** Every client's proxy to server `i`. */
  proxiesTo(i: number): FaultProxy[] {
    return [...this.#proxies.values()]
      .map((list) => list[i])
      .filter((p): p is FaultProxy => p !== undefined);
  }

  /** Every proxy. */
  get proxies(): FaultProxy[] {
    return [...this.#proxies.values()].flat();
  }

  /** Stops proxies, servers and the lab. */
  async stop(): Promise<void> {
    await Promise.all(this.proxies.map((proxy) => proxy.close()));
    await Promise.all(this.servers.map((server) => server.stop()));
    await this.lab?.destroy();
  }
}
