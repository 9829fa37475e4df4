import { hasCommand } from '@lock/testkit/servers';
import { exec, mustExec } from './exec.js';

/** Namespace names start with this and the orchestrator's pid (so stale ones can be found). */
const PREFIX = 'lockchaos';
/** The lab's subnet: namespaces are not connected to the host, so one fixed subnet is enough. */
const SUBNET = '10.77.0';

/**
 * A small network of its own for partitions a proxy cannot make: one network namespace per
 * server node, and a hub namespace holding a bridge that joins them, where the workers, the
 * fenced resource and the probe run. Nothing is added to the host's own namespace. Partitions
 * are `iptables` DROP rules inside the node namespaces; {@link NetLab.destroy} deletes every
 * namespace (and with it every interface and rule).
 *
 * Needs root, `ip` (iproute2) and `iptables`.
 */
export class NetLab {
  /** Namespace of the bridge, the workers and the resource. */
  readonly hub: string;
  /** One namespace per node. */
  readonly nodes: readonly string[];
  #destroyed = false;

  private constructor(hub: string, nodes: readonly string[]) {
    this.hub = hub;
    this.nodes = nodes;
  }

  /** Whether this machine can build a lab (root, `ip`, `iptables`). */
  static available(): { ok: boolean; why: string } {
    if (process.getuid?.() !== 0) return { ok: false, why: 'network namespaces need root' };
    if (!hasCommand('ip')) return { ok: false, why: '`ip` (iproute2) is not installed' };
    if (!hasCommand('iptables')) {
      return { ok: false, why: '`iptables` is not installed (apt-get install iptables)' };
    }
    return { ok: true, why: '' };
  }

  /** Builds a lab of `count` nodes. Node `i` has address {@link NetLab.ip}(i). */
  static async create(count: number, tag: string): Promise<NetLab> {
    const base = `${PREFIX}${process.pid}${tag}`;
    const lab = new NetLab(
      `${base}h`,
      Array.from({ length: count }, (_, i) => `${base}n${i + 1}`),
    );
    try {
      await lab.#build();
    } catch (error) {
      await lab.destroy();
      throw error;
    }
    return lab;
  }

  /** Deletes namespaces that earlier runs of this suite left behind (their process is gone). */
  static async removeStale(): Promise<void> {
    const listed = await exec('ip', ['netns', 'list']);
    for (const line of listed.stdout.split('\n')) {
      const name = line.split(' ')[0] ?? '';
      const match = new RegExp(`^${PREFIX}(\\d+)`).exec(name);
      if (match === null) continue;
      const pid = Number(match[1]);
      let alive = true;
      try {
        process.kill(pid, 0);
      } catch {
        alive = false;
      }
      if (!alive || pid === process.pid) await exec('ip', ['netns', 'del', name]);
    }
  }

  /** The address of node `i` (0-based). */
  ip(i: number): string {
    return `${SUBNET}.${i + 1}`;
  }

  /** The hub's address (where the workers connect from). */
  get hubIp(): string {
    return `${SUBNET}.254`;
  }

  /** Drops all traffic between the nodes of `a` and those of `b` (both directions). */
  async cut(a: readonly number[], b: readonly number[]): Promise<void> {
    for (const i of a) {
      for (const j of b) {
        await this.#drop(i, this.ip(j));
        await this.#drop(j, this.ip(i));
      }
    }
  }

  /** Drops all traffic between node `i` and the hub (the workers). */
  async cutFromClients(i: number): Promise<void> {
    await this.#drop(i, this.hubIp);
  }

  /** Removes every DROP rule: the network is whole again. */
  async heal(): Promise<void> {
    for (const ns of this.nodes) {
      await mustExec('ip', ['netns', 'exec', ns, 'iptables', '-F', 'INPUT']);
      await mustExec('ip', ['netns', 'exec', ns, 'iptables', '-F', 'OUTPUT']);
    }
  }

  /** Deletes every namespace of the lab. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const ns of [...this.nodes, this.hub]) await exec('ip', ['netns', 'del', ns]);
  }

  async #drop(node: number, peer: string): Promise<void> {
    const ns = this.nodes[node] as string;
    await mustExec('ip', [
      'netns',
      'exec',
      ns,
      'iptables',
      '-A',
      'INPUT',
      '-s',
      peer,
      '-j',
      'DROP',
    ]);
    await mustExec('ip', [
      'netns',
      'exec',
      ns,
      'iptables',
      '-A',
      'OUTPUT',
      '-d',
      peer,
      '-j',
      'DROP',
    ]);
  }

  async #build(): Promise<void> {
    const ip = (...args: string[]) => mustExec('ip', args);
    await ip('netns', 'add', this.hub);
    await ip('-n', this.hub, 'link', 'set', 'lo', 'up');
    await ip('-n', this.hub, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', this.hub, 'addr', 'add', `${this.hubIp}/24`, 'dev', 'br0');
    await ip('-n', this.hub, 'link', 'set', 'br0', 'up');
    for (const [i, ns] of this.nodes.entries()) {
      await ip('netns', 'add', ns);
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      // Created inside the hub with its peer straight in the node: the host never sees them.
      await ip(
        '-n',
        this.hub,
        'link',
        'add',
        `v${i + 1}`,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        ns,
      );
      await ip('-n', this.hub, 'link', 'set', `v${i + 1}`, 'master', 'br0', 'up');
      await ip('-n', ns, 'addr', 'add', `${this.ip(i)}/24`, 'dev', 'eth0');
      await ip('-n', ns, 'link', 'set', 'eth0', 'up');
    }
  }
}
