// The two redlock releases ship no types that resolve under this project's settings (4.x has
// none; 5.0.0-beta.2's are hidden by its "exports" map). Only what the bench calls is declared.
declare module 'redlock' {
  import type { EventEmitter } from 'node:events';
  export default class Redlock extends EventEmitter {
    constructor(clients: unknown[], options?: Record<string, number>);
    lock(resource: string, ttl: number): Promise<{ unlock(): Promise<void> }>;
  }
}
declare module 'redlock5' {
  import type { EventEmitter } from 'node:events';
  export default class Redlock extends EventEmitter {
    constructor(clients: unknown[], options?: Record<string, number>);
    acquire(resources: string[], ttl: number): Promise<{ release(): Promise<unknown> }>;
  }
}
// dynamodb-lock-client 0.7.3 ships no types; only what the bench calls is declared.
declare module 'dynamodb-lock-client' {
  interface FailOpenLock {
    release(callback: (error?: unknown) => void): void;
  }
  const DynamoDBLockClient: {
    FailOpen: new (
      config: Record<string, unknown>,
    ) => {
      acquireLock(id: string, callback: (error: unknown, lock: FailOpenLock) => void): void;
    };
  };
  export default DynamoDBLockClient;
}
