import { isLockError } from '@lock/core';
import {
  createDynamoBackend,
  openBackend as openDynamo,
  parseDynamoUrl,
} from '../src/dynamodb/index.js';
import {
  createFirestoreBackend,
  openBackend as openFirestore,
  parseFirestoreUrl,
} from '../src/firestore/index.js';
import {
  createMongoBackend,
  openBackend as openMongo,
  parseMongoUrl,
} from '../src/mongodb/index.js';

/** Calls `call` and returns what it threw (or fails when it did not). */
function thrown(call: () => unknown): Error {
  try {
    call();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

async function rejected(call: () => Promise<unknown>): Promise<Error> {
  try {
    await call();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('connection strings are checked before any I/O, naming the field', () => {
  it.each([
    ['mongodb://', 'no host'],
    ['mongodb://h/db?collection=a$b', 'collection'],
    ['mongodb://h/db?collection=system.x', 'collection'],
    ['mongodb://h/bad.db', 'database'],
    ['mongodb://h/db?operationTimeout=soon', 'operationTimeout'],
    ['mongodb://h/db?collection=a&collection=b', '"collection" is given twice'],
    ['mongodb:h', 'expected "mongodb://'],
  ])('%s', (uri, named) => {
    const error = thrown(() => parseMongoUrl(uri));
    expect(isLockError(error, 'INVALID_CONNECTION_STRING')).toBe(true);
    expect(error.message).toContain(named);
  });

  it('an option the Mongo driver does not know is rejected by name, the password masked', () => {
    const error = thrown(() =>
      createMongoBackend({ url: 'mongodb://app:s3cret@127.0.0.1:1/db?retryWritez=true' }),
    );
    expect(isLockError(error, 'INVALID_CONNECTION_STRING')).toBe(true);
    expect(error.message).toContain('retryWritez');
    expect(error.message).not.toContain('s3cret');
  });

  it.each([
    ['dynamodb://', 'no table name'],
    ['dynamodb://ab', 'table'],
    ['dynamodb://bad$name', 'table'],
    ['dynamodb://locks?regoin=eu-west-1', 'unknown parameter "regoin"'],
    ['dynamodb://locks?endpoint=ftp://x', 'endpoint'],
    ['dynamodb://locks?maxAttempts=0', 'maxAttempts'],
    ['dynamodb://locks?operationTimeout=-5', 'operationTimeout'],
    ['dynamodb://locks?region=EU%20WEST', 'region'],
    ['dynamodb://key:secret@locks', 'credentials do not go in the URI'],
  ])('%s', (uri, named) => {
    const error = thrown(() => parseDynamoUrl(uri));
    expect(isLockError(error, 'INVALID_CONNECTION_STRING')).toBe(true);
    expect(error.message).toContain(named);
    expect(error.message).not.toContain('secret@');
  });

  it.each([
    ['firestore://', 'no project'],
    ['firestore://Bad_Project', 'projectId'],
    ['firestore://my-project/Bad_DB', 'databaseId'],
    ['firestore://my-project?collection=__x__', 'collection'],
    ['firestore://my-project?colection=locks', 'unknown parameter "colection"'],
    ['firestore://my-project?keyPrefix=a/b', 'keyPrefix'],
  ])('%s', (uri, named) => {
    const error = thrown(() => parseFirestoreUrl(uri));
    expect(isLockError(error, 'INVALID_CONNECTION_STRING')).toBe(true);
    expect(error.message).toContain(named);
  });

  it('good connection strings give the options they say', () => {
    expect(
      parseMongoUrl('mongodb+srv://u:p@cluster.example/app?collection=locks&w=majority'),
    ).toEqual({
      driverUrl: 'mongodb+srv://u:p@cluster.example/app?w=majority',
      database: 'app',
      collection: 'locks',
      keyPrefix: undefined,
      operationTimeout: undefined,
    });
    expect(
      parseDynamoUrl('dynamodb://locks?region=eu-west-1&endpoint=http://127.0.0.1:8000'),
    ).toEqual({
      table: 'locks',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:8000',
    });
    expect(
      parseFirestoreUrl('firestore://my-project/locks-db?collection=leases&operationTimeout=2000'),
    ).toEqual({
      projectId: 'my-project',
      databaseId: 'locks-db',
      collection: 'leases',
      operationTimeout: 2000,
    });
  });
});

describe('options are checked before any I/O, naming the option', () => {
  it.each([
    [
      'unknown option',
      () => createMongoBackend({ url: 'mongodb://h/', colection: 'x' } as never),
      'options.colection',
    ],
    ['client and url', () => createMongoBackend({}), 'exactly one of client and url'],
    [
      'bad collection',
      () => createMongoBackend({ url: 'mongodb://h/', collection: '' }),
      'options.collection',
    ],
    [
      'bad timeout',
      () => createMongoBackend({ url: 'mongodb://h/', operationTimeout: 0 }),
      'options.operationTimeout',
    ],
    ['missing table', () => createDynamoBackend({} as never), 'options.table'],
    [
      'bad endpoint',
      () => createDynamoBackend({ table: 'locks', endpoint: 'localhost:8000' }),
      'options.endpoint',
    ],
    [
      'endpoint credentials',
      () => createDynamoBackend({ table: 'locks', endpoint: 'http://k:s@h' }),
      'must not carry credentials',
    ],
    [
      'client and region',
      () =>
        createDynamoBackend({
          table: 'locks',
          client: { send() {} } as never,
          region: 'eu-west-1',
        }),
      'options.region',
    ],
    ['bad project', () => createFirestoreBackend({ projectId: 'X' }), 'options.projectId'],
    [
      'bad collection id',
      () => createFirestoreBackend({ projectId: 'my-project', collection: 'a/b' }),
      'options.collection',
    ],
  ])('%s', (_name, call, named) => {
    const error = thrown(call);
    expect(isLockError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect(error.message).toContain(named);
  });

  it('openBackend rejects an unknown backend option by name', async () => {
    for (const open of [
      () => openMongo('mongodb://127.0.0.1:1/', { tabel: 'x' }),
      () => openDynamo('dynamodb://locks?region=us-east-1', { tabel: 'x' }),
      () => openFirestore('firestore://my-project', { tabel: 'x' }),
    ]) {
      const error = await rejected(open);
      expect(isLockError(error, 'INVALID_ARGUMENT')).toBe(true);
      expect(error.message).toContain('options.backend.tabel');
      expect(error.message).not.toContain('"x"');
    }
  });
});
