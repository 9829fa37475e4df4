import { describe, expect, it } from '@jest/globals';
import {
  BackendError,
  ForbiddenError,
  InvalidArgumentError,
  InvalidConnectionStringError,
  isLockError,
  LockAbortedError,
  LockClosedError,
  LockError,
  LockLostError,
  LockTimeoutError,
  maskSecrets,
  NotAcquiredError,
  NotFoundError,
  UnsupportedServiceError,
} from '../src/index.js';

describe('errors', () => {
  it('every kind has its stable code, its class name and LockError as base', () => {
    const cases: [LockError, string, string][] = [
      [new NotAcquiredError('k', 'worker-1', 1500), 'NOT_ACQUIRED', 'NotAcquiredError'],
      [new NotFoundError('k'), 'NOT_FOUND', 'NotFoundError'],
      [new ForbiddenError('k'), 'FORBIDDEN', 'ForbiddenError'],
      [new LockTimeoutError('k', 100), 'TIMEOUT', 'LockTimeoutError'],
      [new LockAbortedError('k'), 'ABORTED', 'LockAbortedError'],
      [new LockLostError('k', 'expired'), 'LOST', 'LockLostError'],
      [new LockClosedError(), 'CLOSED', 'LockClosedError'],
      [new UnsupportedServiceError('foo'), 'UNSUPPORTED_SERVICE', 'UnsupportedServiceError'],
      [
        new InvalidConnectionStringError('x', 'bad'),
        'INVALID_CONNECTION_STRING',
        'InvalidConnectionStringError',
      ],
      [
        new InvalidArgumentError('ttl', 0, 'must be > 0'),
        'INVALID_ARGUMENT',
        'InvalidArgumentError',
      ],
      [new BackendError('down'), 'BACKEND', 'BackendError'],
    ];
    for (const [error, code, name] of cases) {
      expect(error).toBeInstanceOf(LockError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.name).toBe(name);
      expect(isLockError(error)).toBe(true);
      expect(isLockError(error, code as never)).toBe(true);
      expect(isLockError(error, (code === 'LOST' ? 'CLOSED' : 'LOST') as never)).toBe(false);
    }
  });

  it('not-acquired carries holder and remaining time; backend error keeps the driver error as cause', () => {
    const error = new NotAcquiredError('jobs', 'worker-7', 812.4);
    expect(error.holder).toBe('worker-7');
    expect(error.remainingMs).toBe(812.4);
    expect(error.key).toBe('jobs');
    expect(error.message).toBe('lock "jobs" is held by "worker-7" for 812 ms more');
    const driver = new Error('ECONNREFUSED');
    expect(new BackendError('acquire failed', { cause: driver }).cause).toBe(driver);
  });

  it('isLockError recognises errors from another copy of the package, and nothing else', () => {
    // A second copy of @lock/core defines its own classes but brands with the same global symbol.
    const foreign = Object.assign(new Error('from another copy'), { code: 'LOST' });
    Object.defineProperty(foreign, Symbol.for('@lock/core.LockError'), { value: true });
    expect(isLockError(foreign, 'LOST')).toBe(true);
    expect(isLockError(Object.assign(new Error('look-alike'), { code: 'LOST' }))).toBe(false);
    expect(isLockError(null)).toBe(false);
    expect(isLockError('LOST')).toBe(false);
  });

  it('invalid-argument names the argument, echoes the value and its type, and states the rule', () => {
    expect(
      new InvalidArgumentError('options.ttl', Number.NaN, 'must be a finite number > 0').message,
    ).toBe('options.ttl must be a finite number > 0, got NaN (number)');
    expect(new InvalidArgumentError('key', '', 'must be a non-empty string').message).toBe(
      'key must be a non-empty string, got "" (string)',
    );
  });

  it('connection-string errors never carry the password', () => {
    const error = new InvalidConnectionStringError(
      'redis://app:hunter2@db:6379/x?password=hunter2',
      'bad db',
    );
    expect(error.message).not.toContain('hunter2');
    expect(maskSecrets('memcached://u:p%40ss@h:11211')).toBe('memcached://u:***@h:11211');
  });
});
