import type { LeaseCollection, LeaseFields } from '../src/index.js';
import { describeDynamo, describeFirestore, describeMongo } from './servers.js';
import { type Store, startStore } from './stores.js';

const fields = (owner: string | null, writeId: string, fence = 1): LeaseFields => ({
  owner,
  leaseMs: owner === null ? 0 : 1_000,
  fence,
  writeId,
});

const suites: [Store['name'], typeof describe][] = [
  ['mongodb', describeMongo],
  ['dynamodb', describeDynamo],
  ['firestore', describeFirestore],
];

for (const [name, describeStore] of suites) {
  describeStore(`the collection contract on ${name}`, () => {
    let store: Store;
    let collection: LeaseCollection;
    beforeAll(async () => {
      store = await startStore(name);
    }, 90_000);
    afterAll(async () => {
      await store?.stop();
    });
    beforeEach(() => {
      collection = store.collection();
    });

    it('get of a missing record is undefined; create makes it and returns its version', async () => {
      expect(await collection.get('a')).toBeUndefined();
      const created = await collection.create('a', fields('o1', 'w1', 7));
      expect(created.created).toBe(true);
      const read = await collection.get('a');
      expect(read).toMatchObject({ owner: 'o1', leaseMs: 1_000, fence: 7, writeId: 'w1' });
      if (created.created) expect(read?.version).toBe(created.record.version);
    });

    it('create-if-absent fails when the record is present, and leaves it as it was', async () => {
      await collection.create('b', fields('o1', 'w1'));
      const again = await collection.create('b', fields('o2', 'w2'));
      expect(again.created).toBe(false);
      if (!again.created && again.current !== undefined) {
        expect(again.current.owner).toBe('o1');
      }
      expect((await collection.get('b'))?.owner).toBe('o1');
    });

    it('an update on the current version lands; one on a stale version fails and changes nothing', async () => {
      const created = await collection.create('c', fields('o1', 'w1'));
      if (!created.created) throw new Error('not created');
      const first = created.record.version;
      const updated = await collection.update('c', first, fields(null, 'w2'));
      expect(updated.updated).toBe(true);
      const stale = await collection.update('c', first, fields('o3', 'w3'));
      expect(stale.updated).toBe(false);
      if (!stale.updated && stale.current) expect(stale.current.writeId).toBe('w2');
      expect(await collection.get('c')).toMatchObject({ owner: null, writeId: 'w2' });
    });

    it('an update of a missing record fails', async () => {
      const read = await collection.create('d0', fields('o1', 'w1'));
      if (!read.created) throw new Error('not created');
      const result = await collection.update('d-missing', read.record.version, fields('o2', 'w2'));
      expect(result.updated).toBe(false);
      expect(await collection.get('d-missing')).toBeUndefined();
    });

    it('a delete on a stale version fails; on the current one it deletes', async () => {
      const created = await collection.create('e', fields('o1', 'w1'));
      if (!created.created) throw new Error('not created');
      const updated = await collection.update('e', created.record.version, fields('o1', 'w2'));
      if (!updated.updated) throw new Error('not updated');
      expect(await collection.delete('e', created.record.version)).toBe(false);
      expect(await collection.get('e')).toBeDefined();
      expect(await collection.delete('e', updated.record.version)).toBe(true);
      expect(await collection.get('e')).toBeUndefined();
    });

    it('of 20 racing updates on one version exactly one lands', async () => {
      const created = await collection.create('f', fields('o1', 'w1'));
      if (!created.created) throw new Error('not created');
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          collection.update('f', created.record.version, fields(`o${i}`, `r${i}`)),
        ),
      );
      expect(results.filter((r) => r.updated)).toHaveLength(1);
    });

    it('updateMany reports each update on its own: stale ones fail, the others land', async () => {
      if (collection.updateMany === undefined) return;
      const versions: string[] = [];
      for (const id of ['g1', 'g2', 'g3']) {
        const created = await collection.create(id, fields('o', `${id}-1`));
        if (!created.created) throw new Error('not created');
        versions.push(created.record.version);
      }
      const moved = await collection.update('g2', versions[1] as string, fields('o', 'g2-x'));
      expect(moved.updated).toBe(true);
      const results = await collection.updateMany(
        ['g1', 'g2', 'g3'].map((id, i) => ({
          id,
          expected: versions[i] as string,
          fields: fields('o', `${id}-2`),
        })),
      );
      expect(results.map((r) => r.updated)).toEqual([true, false, true]);
      expect((await collection.get('g1'))?.writeId).toBe('g1-2');
      expect((await collection.get('g2'))?.writeId).toBe('g2-x');
      expect((await collection.get('g3'))?.writeId).toBe('g3-2');
    });
  });
}
