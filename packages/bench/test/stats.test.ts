import { describe, expect, it } from '@jest/globals';
import { beyondSpread, formatRatio, formatSpread, pairedTable, toMarkdown } from '../src/report.js';
import {
  differsBeyondSpread,
  median,
  medianInterval,
  pairedRatios,
  spreadOf,
} from '../src/stats.js';
import { summarizeContention } from '../src/workloads.js';

const spread = (...values: number[]) => {
  const s = spreadOf(values);
  if (s === undefined) throw new Error('no spread');
  return s;
};

describe('median and spread', () => {
  it('takes the middle value, or the mean of the middle two', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });

  it('keeps min..max and the rounds, leaving failed (NaN) rounds out', () => {
    expect(spread(30, 10, Number.NaN, 20)).toEqual({
      median: 20,
      min: 10,
      max: 30,
      values: [30, 10, 20],
    });
    expect(spreadOf([Number.NaN])).toBeUndefined();
  });

  it('prints the median with min–max, or the median alone when every round agreed', () => {
    expect(formatSpread(spread(4373, 4100, 4500), 0)).toBe('4,373 (4,100–4,500)');
    expect(formatSpread(spread(5, 5, 5), 2)).toBe('5.00');
  });
});

describe('differences larger than the spread', () => {
  it('holds only when the ranges of rounds do not overlap', () => {
    expect(differsBeyondSpread(spread(100, 110, 105), spread(120, 130, 125))).toBe(true);
    expect(differsBeyondSpread(spread(120, 130, 125), spread(100, 110, 105))).toBe(true);
    // Medians 25 % apart, but one round of each overlaps the other: within the spread.
    expect(differsBeyondSpread(spread(100, 101, 130), spread(125, 126, 127))).toBe(false);
    // Touching ranges are not a difference.
    expect(differsBeyondSpread(spread(100, 110), spread(110, 120))).toBe(false);
  });

  it('is never claimed from a single round, whose spread is unknown', () => {
    expect(differsBeyondSpread(spread(100), spread(1000))).toBe(false);
  });

  it('marks ratios within the spread with ~ and lists only the others', () => {
    const base = spread(99, 100, 101);
    expect(formatRatio(spread(150, 160, 155), base)).toBe('1.55×');
    expect(formatRatio(spread(95, 112, 108), base)).toBe('~1.08×');
    const column = (column: string, value: ReturnType<typeof spread>) => ({
      column,
      figures: { 'seq.pairsPerSecond': value, 'par.pairsPerSecond': value },
      errors: [],
    });
    const lines = beyondSpread([
      column('ours', base),
      column('fast', spread(150, 160, 155)),
      column('close', spread(95, 112, 108)),
    ]);
    const listed = lines.filter((l) => l.startsWith('- '));
    expect(listed).toEqual([
      '- pairs/s, 1 in flight: fast 1.55× ours',
      '- pairs/s, 50 keys in parallel: fast 1.55× ours',
    ]);
  });
});

describe('contention summary across contender processes', () => {
  it('orders every process’s holds on the shared clock to get release→next acquire', () => {
    const result = summarizeContention(
      [
        {
          waits: [1, 3],
          holds: [
            { acquiredAt: 0, releasingAt: 1 },
            { acquiredAt: 4, releasingAt: 5 },
          ],
          failed: 0,
        },
        { waits: [2], holds: [{ acquiredAt: 1.5, releasingAt: 2.5 }], failed: 1 },
      ],
      1000,
    );
    expect(result.acquisitionsPerSecond).toBe(3);
    expect(result.handoffP50Ms).toBeCloseTo(0.5);
    expect(result.handoffP99Ms).toBeCloseTo(1.5);
    expect(result.failed).toBe(1);
    expect(result.spread.min).toBeCloseTo(1 / 1.5);
    expect(result.spread.max).toBeCloseTo(2 / 1.5);
  });
});

describe('paired ratios and the median interval', () => {
  it('pairs rounds by index and leaves out rounds missing either figure', () => {
    const base = [{ x: 100 }, { x: 200 }, {}, { x: 0 }, { x: 50 }];
    const other = [{ x: 110 }, { x: 180 }, { x: 90 }, { x: 10 }, {}];
    expect(pairedRatios(base, other, 'x')).toEqual([1.1, 0.9]);
  });

  it('gives the order statistics a binomial tail of at most 2.5% on each side allows', () => {
    // n = 6: P(X = 0) = 1/64 ≤ 2.5% < P(X ≤ 1) = 7/64, so x(1)..x(6).
    expect(medianInterval([6, 1, 5, 2, 4, 3])).toEqual({ low: 1, high: 6 });
    // n = 5: P(X = 0) = 1/32 > 2.5%: no 95% interval exists.
    expect(medianInterval([1, 2, 3, 4, 5])).toBeUndefined();
    // n = 60: P(X ≤ 21) ≈ 1.4% ≤ 2.5% < P(X ≤ 22) ≈ 2.7%, so x(22)..x(39).
    const values = Array.from({ length: 60 }, (_, i) => i + 1).reverse();
    expect(medianInterval(values)).toEqual({ low: 22, high: 39 });
    expect(medianInterval([Number.NaN, ...values])).toEqual({ low: 22, high: 39 });
  });

  it('prints each variant over the first column with its interval', () => {
    const rounds = (values: number[]) => values.map((v) => ({ 'par.pairsPerSecond': v }));
    const column = (name: string, values: number[]) => ({
      column: name,
      figures: { 'par.pairsPerSecond': spread(...values) },
      rounds: rounds(values),
      errors: [],
    });
    const lines = pairedTable([
      column('none', [100, 100, 100, 100, 100, 100]),
      column('on', [97, 98, 99, 100, 101, 96]),
    ]);
    expect(lines.at(-1)).toBe('| pairs/s, 50 keys in parallel | 0.985× (0.960–1.010) |');
    // In the report only for runs long enough to have an interval (the default is 3 rounds).
    const columns = [column('none', [100, 100, 100]), column('on', [97, 98, 99])];
    expect(toMarkdown({}, [{ suite: 's', rounds: 3, notes: [], columns }])).not.toMatch(/Paired/);
    const six = [column('none', [1, 1, 1, 1, 1, 1]), column('on', [1, 1, 1, 1, 1, 1])];
    expect(toMarkdown({}, [{ suite: 's', rounds: 6, notes: [], columns: six }])).toMatch(
      /Paired ratios/,
    );
  });
});
