// Core's semaphore fallback (read → decideSemaphore → compare-and-set write), end to end: the
// conformance suite, semaphore and read-write sections included, on a backend that has no
// native semaphore methods, only a compare-and-set record kept beside a local: store.
import { type LockBackend, systemClock, type Unsubscribe, type VersionedRecord } from '@lock/core';
import { runConformanceSuite } from '@lock/testkit';
import { LocalBackend, LocalStore } from '../src/index.js';

/** Versioned records and their watchers: what a CAS store (memcached, a document) offers. */
class RecordTable {
  readonly store = new LocalStore(systemClock);
  readonly records = new Map<string, { value: string; version: number }>();
  readonly watchers = new Map<string, Set<() => void>>();
  #versions = 0;

  read(key: string): VersionedRecord | undefined {
    const record = this.records.get(key);
    return record && { value: record.value, version: String(record.version) };
  }

  write(key: string, value: string, expected: string | undefined): 'ok' | 'conflict' {
    const current = this.records.get(key);
    if (expected === undefined ? current !== undefined : String(current?.version) !== expected) {
      return 'conflict';
    }
    this.#versions += 1;
    this.records.set(key, { value, version: this.#versions });
    for (const watcher of [...(this.watchers.get(key) ?? [])]) watcher();
    return 'ok';
  }
}

/** local: for locks, and only the record primitive for semaphores: core runs the rules. */
class RecordOnlyBackend implements LockBackend {
  readonly name = 'local-records';
  readonly #table: RecordTable;
  readonly #locks: LocalBackend;
  #closed = false;

  constructor(table: RecordTable) {
    this.#table = table;
    this.#locks = new LocalBackend({ store: table.store });
  }

  acquire = (request: Parameters<LockBackend['acquire']>[0]) => this.#locks.acquire(request);
  extend = (request: Parameters<LockBackend['extend']>[0]) => this.#locks.extend(request);
  release = (request: Parameters<LockBackend['release']>[0]) => this.#locks.release(request);
  inspect = (key: string) => this.#locks.inspect(key);

  async readRecord(key: string): Promise<VersionedRecord | undefined> {
    this.#assertOpen();
    // A round trip's worth of delay, so that compare-and-set rounds really interleave.
    await new Promise((resolve) => setImmediate(resolve));
    return this.#table.read(key);
  }

  async writeRecord(
    key: string,
    value: string,
    expectedVersion: string | undefined,
  ): Promise<'ok' | 'conflict'> {
    this.#assertOpen();
    await new Promise((resolve) => setImmediate(resolve));
    return this.#table.write(key, value, expectedVersion);
  }

  watch(key: string, onChange: () => void): Unsubscribe {
    const stopLocks = this.#locks.watch(key, onChange);
    const set = this.#table.watchers.get(key) ?? new Set();
    set.add(onChange);
    this.#table.watchers.set(key, set);
    return () => {
      set.delete(onChange);
      void stopLocks();
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#locks.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('closed');
  }
}

const tables = new Map<string, RecordTable>();
const tableOf = (namespace: string) => {
  let table = tables.get(namespace);
  if (table === undefined) {
    table = new RecordTable();
    tables.set(namespace, table);
  }
  return table;
};

runConformanceSuite({
  name: 'local-records (core semaphore fallback)',
  createBackend: async (namespace) => new RecordOnlyBackend(tableOf(namespace)),
  forceDelete: async (namespace, key) => tableOf(namespace).store.forceDelete(key),
  createUnreachableBackend: async (): Promise<LockBackend> => {
    const backend = new RecordOnlyBackend(new RecordTable());
    await backend.close();
    return backend;
  },
  capabilities: { minTtlMs: 200, expirySlackMs: 5, semaphores: true, seedContenders: 200 },
});
