import { describe, expect, it } from '@jest/globals';
import { BackendError } from '@lock/core';
import { formatDuration, parseDuration } from '../src/duration.js';
import { describeError, Reporter } from '../src/reporter.js';

const linesOf = (act: (reporter: Reporter) => void): string[] => {
  const lines: string[] = [];
  act(new Reporter((text) => lines.push(text)));
  return lines;
};

describe('Reporter', () => {
  it('hides the URI password as written and decoded, in any message', () => {
    const [line] = linesOf((reporter) => {
      reporter.hideSecretsOf('redis://alice:p%40ss%3Aword@10.0.0.1:6379?password=q-secret');
      reporter.line('driver said: AUTH alice p@ss:word failed; raw p%40ss%3Aword; query q-secret');
    });
    expect(line).toBe('lock: driver said: AUTH alice *** failed; raw ***; query ***\n');
  });

  it('writes one line, with control characters escaped', () => {
    const [line] = linesOf((reporter) =>
      reporter.line('held by "evil\u001b[2J\u0007"\n  and more\tthings'),
    );
    expect(line).toBe('lock: held by "evil\\u001b[2J\\u0007" and more\\tthings\n');
  });
});

describe('describeError', () => {
  it('joins the message with its causes, and reads messageless aggregate errors', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
    });
    const aggregate = new AggregateError([refused], '');
    const error = new BackendError('redis connect failed', { cause: aggregate });
    expect(describeError(error)).toBe('redis connect failed: connect ECONNREFUSED 127.0.0.1:1');
    expect(describeError('plain')).toBe('plain');
  });
});

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1.5h', 5_400_000],
    ['0s', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration('--wait', text, { minMs: 0 })).toBe(ms);
  });

  it.each(['30', '1d', '-1s', '1 s', '', 's', '1.s'])(
    '%j is refused with the flag named',
    (text) => {
      expect(() => parseDuration('--ttl', text, { minMs: 0 })).toThrow(
        `--ttl ${JSON.stringify(text)} is not a duration`,
      );
    },
  );

  it('formats for messages', () => {
    expect([850, 12_500, 180_000, 7_200_000].map(formatDuration)).toEqual([
      '850ms',
      '12.5s',
      '3m',
      '2h',
    ]);
  });
});
