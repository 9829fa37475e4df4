/**
 * The process of close.test.ts's "exits by itself" test: a backend through the test's fault
 * proxy holds a lock, renews it and watches, then (once the test cut the replies off) sees its
 * calls fail, and closes. It prints each step; the test judges whether it then exits by itself.
 */
import { createInterface } from 'node:readline';
import { EtcdBackend } from '../src/index.js';

const [hosts = '', prefix = ''] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const step = async (name: string) => {
  console.log(name);
  await lines.next();
};

const backend = new EtcdBackend({ hosts, prefix, requestTimeoutMs: 500, dialTimeoutMs: 1_000 });
const ttlMs = 5_500;
await backend.acquire({ key: 'held', owner: 'c.1', ttlMs });
await backend.extend({ key: 'held', owner: 'c.1', ttlMs }); // opens the keepalive stream
const unwatch = await backend.watch('watched', () => {});
await step('ready'); // the test now drops every reply
const failed = await Promise.allSettled([
  backend.extend({ key: 'held', owner: 'c.1', ttlMs }),
  backend.acquire({ key: 'other', owner: 'c.1', ttlMs }),
  backend.release({ key: 'held', owner: 'c.1' }),
]);
console.log(`calls ${failed.map((r) => r.status).join(' ')}`);
await step('failed'); // the test heals the network (as the chaos suite does before closing)
await unwatch();
await backend.close();
lines.return?.();
process.stdin.destroy();
console.log('closed');
