// A bench child process: `node child.js <suite>` sets up the suite's adapters (connecting to the
// servers the parent started, see suites/servers.ts) and runs the tasks the parent sends over
// IPC: one contender's loop, or a held-lock run in a fresh heap.
import type { LockAdapter } from './adapter.js';
import type { ChildReply, ChildTask } from './child-protocol.js';
import { type ServerCounter, serverCounter } from './server-counters.js';
import { SERVER_OF, suiteFactory } from './suite-registry.js';
import { sharedServerUrl } from './suites/servers.js';
import { contend, heldMany, uncontended } from './workloads.js';

const send = (reply: ChildReply) => process.send?.(reply);
const [suiteName = ''] = process.argv.slice(2);

try {
  const suite = await suiteFactory(suiteName)();
  const byName = new Map(suite.adapters.map((a) => [a.name, a]));
  const defaults = new Map<string, Promise<LockAdapter | undefined>>();
  const withDefaults = (adapter: LockAdapter) => {
    let variant = defaults.get(adapter.name);
    if (variant === undefined) {
      variant = adapter.withDefaults?.() ?? Promise.resolve(undefined);
      defaults.set(adapter.name, variant);
    }
    return variant;
  };
  const adapterNamed = (name: string) => {
    const adapter = byName.get(name);
    if (adapter === undefined) throw new Error(`no adapter "${name}" in suite ${suiteName}`);
    return adapter;
  };
  const kind = SERVER_OF[suiteName];
  const url = kind && sharedServerUrl(kind);
  let counter: ServerCounter | undefined;

  process.on('message', (task: ChildTask) => {
    void (async () => {
      try {
        if (task.type === 'contend') {
          const adapter = adapterNamed(task.adapter);
          const chosen = task.footing === 'equal' ? adapter : await withDefaults(adapter);
          const report =
            chosen && (await contend(chosen, task.key, task.startAt, task.endAt, task.workMs));
          send({ type: 'contended', id: task.id, report: report ?? null });
        } else if (task.type === 'held') {
          const adapter = adapterNamed(task.adapter);
          // Warm-up, so that code is loaded and compiled before the baseline; then a pause for
          // what the warm-up left behind (timers, retries) to finish and become garbage.
          await uncontended(adapter, 10, 300);
          await new Promise((resolve) => setTimeout(resolve, 500));
          if (kind && url && counter === undefined) counter = await serverCounter(kind, url);
          const result = await heldMany(adapter, task.count, task.ttlMs, task.holdMs, counter);
          send({ type: 'held', id: task.id, result });
        } else {
          await counter?.close();
          for (const variant of defaults.values()) await (await variant)?.close().catch(() => {});
          await Promise.all(suite.adapters.map((a) => a.close().catch(() => {})));
          await suite.teardown();
          send({ type: 'closed', id: task.id });
          process.disconnect();
          setTimeout(() => process.exit(0), 200).unref();
        }
      } catch (error) {
        send({ type: 'error', id: task.id, message: (error as Error).message });
      }
    })();
  });
  send({ type: 'ready', adapters: [...byName.keys()] });
} catch (error) {
  send({ type: 'error', message: (error as Error).message });
  process.exit(1);
}
