import { describe, expect, it } from '@jest/globals';
import { checkCallBounds } from '../src/checkers/call-bounds.js';
import { checkFences } from '../src/checkers/fences.js';
import { checkHandover } from '../src/checkers/handover.js';
import { checkLiveness } from '../src/checkers/liveness.js';
import { checkLossTiming } from '../src/checkers/loss-timing.js';
import { checkOverlap } from '../src/checkers/overlap.js';
import { checkSpuriousLoss } from '../src/checkers/spurious-loss.js';
import { checkTakeover } from '../src/checkers/takeover.js';
import type { CheckContext } from '../src/checkers/types.js';
import { HistoryBuilder } from './history-builder.js';

const context: CheckContext = {
  ttlMs: 1_000,
  serverTtlMs: 1_000,
  retryMs: 500,
  callSlackMs: 250,
  lossExpected: true,
  handoverBoundMs: 1_000,
  takeover: true,
  keys: ['k'],
  probeActor: 'probe',
};

describe('overlap', () => {
  it('finds a grant made while the previous holder was still valid by its own clock', () => {
    const history = new HistoryBuilder()
      .grant('w1', 'a', 'k', 1, 0, 10, 1_000)
      .grant('w2', 'b', 'k', 2, 500, 900, 2_000)
      .build(3_000);
    const result = checkOverlap(history, context);
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]?.holds).toEqual(['a', 'b']);
    expect(result.figures['worstMs']).toBeCloseTo(100);
  });

  it('ends a window at release, lost or validity, whichever comes first', () => {
    const history = new HistoryBuilder()
      .grant('w1', 'a', 'k', 1, 0, 10, 1_000)
      .release('w1', 'a', 'k', 300)
      .grant('w2', 'b', 'k', 2, 200, 310, 1_300)
      .lost('w2', 'b', 'k', 700, 'refused')
      .grant('w3', 'c', 'k', 3, 600, 710, 1_700)
      .grant('w4', 'd', 'k', 4, 1_600, 1_701, 2_700)
      .build(3_000);
    expect(checkOverlap(history, context).findings).toEqual([]);
  });

  it('extends a window by a renewal that came in time, not by one that came after the validity ended', () => {
    const renewedInTime = new HistoryBuilder()
      .grant('w1', 'a', 'k', 1, 0, 10, 1_000)
      .renew('w1', 'a', 'k', 400, 1_400)
      .grant('w2', 'b', 'k', 2, 1_000, 1_200, 2_000)
      .build(3_000);
    expect(checkOverlap(renewedInTime, context).findings).toHaveLength(1);
    const renewedLate = new HistoryBuilder()
      .grant('w1', 'a', 'k', 1, 0, 10, 1_000)
      .renew('w1', 'a', 'k', 1_050, 2_000)
      .grant('w2', 'b', 'k', 2, 1_000, 1_200, 2_200)
      .build(3_000);
    expect(checkOverlap(renewedLate, context).findings).toEqual([]);
  });

  it('shortens a window after an extend with a shorter TTL', () => {
    const history = new HistoryBuilder()
      .grant('w1', 'a', 'k', 1, 0, 10, 3_000)
      .renew('w1', 'a', 'k', 100, 600)
      .grant('w2', 'b', 'k', 2, 500, 700, 1_700)
      .build(3_500);
    expect(checkOverlap(history, context).findings).toEqual([]);
  });

  it('keeps different keys apart, and ends a killed holder’s window at the kill', () => {
    const history = new HistoryBuilder()
      .grant('w1', 'a', 'k', 1, 0, 10, 1_000)
      .grant('w2', 'b', 'other', 1, 0, 20, 1_000)
      .kill('w1', 100)
      .grant('w3', 'c', 'k', 2, 50, 150, 1_150)
      .build(2_000);
    expect(checkOverlap(history, context).findings).toEqual([]);
  });
});

describe('fences', () => {
  it('finds a fence handed out twice and one that went backwards in real-time order', () => {
    const history = new HistoryBuilder()
      .grant('w1', 'a', 'k', 5, 0, 10, 100)
      .release('w1', 'a', 'k', 50)
      .grant('w2', 'b', 'k', 5, 60, 70, 200)
      .release('w2', 'b', 'k', 100)
      .grant('w3', 'c', 'k', 3, 150, 160, 300)
      .build(1_000);
    const messages = checkFences(history, context).findings.map((f) => f.message);
    expect(messages.some((m) => m.includes('handed out 2 times'))).toBe(true);
    expect(messages.some((m) => m.includes('went backwards'))).toBe(true);
  });

  it('allows any order between grants whose calls overlapped in time', () => {
    const history = new HistoryBuilder()
      .grant('w1', 'a', 'k', 7, 0, 100, 200)
      .grant('w2', 'b', 'k', 6, 50, 60, 150)
      .build(1_000);
    expect(checkFences(history, context).findings).toEqual([]);
  });

  it('finds a token the resource accepted from two holders, or a lower one after a higher', () => {
    const history = new HistoryBuilder()
      .grant('w1', 'a', 'k', 1, 0, 10, 100)
      .grant('w2', 'b', 'k', 2, 200, 210, 300)
      .attempt('a', 'k', 1, 20, true)
      .attempt('b', 'k', 2, 220, true)
      .attempt('a', 'k', 1, 230, false)
      .build(1_000);
    expect(checkFences(history, context).findings).toEqual([]);
    const stale = new HistoryBuilder()
      .attempt('a', 'k', 1, 20, true)
      .attempt('b', 'k', 1, 30, true)
      .attempt('c', 'k', 0, 40, true)
      .build(1_000);
    const messages = checkFences(stale, context).findings.map((f) => f.message);
    expect(messages.some((m) => m.startsWith('stale token accepted'))).toBe(true);
    expect(messages.some((m) => m.includes('accepted fence 0'))).toBe(true);
  });
});

describe('loss-timing', () => {
  it('finds a loss reported after the holder’s own validity ended', () => {
    const history = new HistoryBuilder()
      .grant('w1', 'a', 'k', 1, 0, 10, 1_000)
      .lost('w1', 'a', 'k', 1_004)
      .build(2_000);
    const result = checkLossTiming(history, context);
    expect(result.findings).toHaveLength(1);
    expect(result.figures['worstLateMs']).toBeCloseTo(4);
  });

  it('accepts a loss at or before the validity, a release in time, and excuses a stopped or stalled holder', () => {
    const history = new HistoryBuilder()
      .grant('w1', 'a', 'k', 1, 0, 10, 1_000)
      .lost('w1', 'a', 'k', 995)
      .grant('w2', 'b', 'k', 2, 1_000, 1_010, 2_000)
      .release('w2', 'b', 'k', 1_500)
      .grant('w3', 'c', 'k', 3, 1_600, 1_610, 2_600)
      .pause('w3', 2_000, 3_000)
      .lost('w3', 'c', 'k', 3_001)
      .grant('w4', 'd', 'k', 4, 2_700, 2_710, 3_700)
      .stall('w4', 3_690, 3_750)
      .lost('w4', 'd', 'k', 3_750)
      .build(5_000);
    expect(checkLossTiming(history, context).findings).toEqual([]);
  });

  it('treats back-to-back stalls after a stop as one time the holder could not run', () => {
    // Seen in a full run: a stop covering the deadline, then a 41 ms stall right after it (the
    // resumed process running its overdue timers), and the loss told inside that stall.
    const history = new HistoryBuilder()
      .grant('w1', 'a', 'k', 1, 0, 10, 1_000)
      .pause('w1', 900, 3_000)
      .stall('w1', 3_000, 3_041)
      .lost('w1', 'a', 'k', 3_030)
      .grant('w2', 'b', 'k', 2, 4_000, 4_010, 5_000)
      .pause('w2', 4_900, 5_100)
      .stall('w2', 5_200, 5_300)
      .lost('w2', 'b', 'k', 5_290)
      .build(6_000);
    // w2's second stall is not back to back with its stop: its loss is still late.
    expect(checkLossTiming(history, context).findings.map((f) => f.holds)).toEqual([['b']]);
  });

  it('does not excuse lateness well after a stop ended, nor judge before a late grant arrived', () => {
    const history = new HistoryBuilder()
      .grant('w1', 'a', 'k', 1, 0, 10, 1_000)
      .pause('w1', 900, 1_100)
      .lost('w1', 'a', 'k', 1_160)
      .grant('w2', 'b', 'k', 2, 1_200, 2_500, 2_200)
      .lost('w2', 'b', 'k', 2_501)
      .build(3_000);
    const findings = checkLossTiming(history, context).findings;
    expect(findings.map((f) => f.holds)).toEqual([['a']]);
  });

  it('finds a hold whose validity ran out with no loss ever reported', () => {
    const history = new HistoryBuilder().grant('w1', 'a', 'k', 1, 0, 10, 1_000).build(2_000);
    expect(checkLossTiming(history, context).findings[0]?.message).toContain(
      'no lost was ever reported',
    );
  });

  it('finds a holder told of its loss only after someone else acquired', () => {
    const history = new HistoryBuilder()
      .grant('w1', 'a', 'k', 1, 0, 10, 1_000)
      .lost('w1', 'a', 'k', 600, 'refused')
      .grant('w2', 'b', 'k', 2, 400, 500, 1_500)
      .release('w2', 'b', 'k', 900)
      .build(2_000);
    const messages = checkLossTiming(history, context).findings.map((f) => f.message);
    expect(messages).toEqual(['b acquired "k" 100.00 ms before a was told of its loss']);
  });
});

describe('call-bounds', () => {
  it('finds a call over its bound, not counting time its process was stopped', () => {
    const history = new HistoryBuilder()
      .call('w1', 'lock', 0, 2_400, 2_000, 'k')
      .call('w2', 'lock', 0, 3_000, 2_000, 'k')
      .pause('w2', 100, 1_000)
      .build(4_000);
    const result = checkCallBounds(history, context);
    expect(result.findings.map((f) => f.message)).toEqual([expect.stringContaining("w1's lock")]);
  });

  it('finds a call that never ended, an unhandled rejection, leaked handles and a worker that did not exit', () => {
    const history = new HistoryBuilder()
      .call('w1', 'release', 0, undefined, 1_000, 'k')
      .push({ t: '1000000000100', src: 'w2', type: 'unhandled', error: 'boom' })
      .push({ t: '1000000000200', src: 'w3', type: 'handles', leaked: ['TCPSocketWrap'] })
      .push({ t: '1000000000300', src: 'nemesis', type: 'no-exit', worker: 'w4' })
      .build(5_000);
    expect(checkCallBounds(history, context).findings).toHaveLength(4);
  });

  it('does not count a call cut short by its worker being killed', () => {
    const history = new HistoryBuilder()
      .call('w1', 'lock', 0, undefined, 1_000, 'k')
      .kill('w1', 10)
      .build(5_000);
    expect(checkCallBounds(history, context).findings).toEqual([]);
  });
});

describe('liveness', () => {
  it('wants every key taken by the probe within server TTL + retry + 1 s of the heal', () => {
    const ok = new HistoryBuilder()
      .heal(1_000)
      .call('probe', 'lock', 1_010, 2_000, 3_000, 'k')
      .build(3_000);
    expect(checkLiveness(ok, context).findings).toEqual([]);
    const late = new HistoryBuilder()
      .heal(1_000)
      .call('probe', 'lock', 1_010, 3_600, 3_000, 'k')
      .build(4_000);
    expect(checkLiveness(late, context).findings[0]?.message).toContain('only 2600 ms');
    const never = new HistoryBuilder()
      .heal(1_000)
      .call('probe', 'lock', 1_010, 4_000, 3_000, 'k', undefined, 'fail')
      .build(5_000);
    expect(checkLiveness(never, context).findings[0]?.message).toContain('could not be acquired');
  });
});

describe('takeover', () => {
  const killed = (nextAt: number) =>
    new HistoryBuilder()
      .grant('w1', 'a', 'k', 1, 0, 10, 1_000)
      .renewSent('w1', 'a', 'k', 300)
      .kill('w1', 400)
      .grant('w2', 'b', 'k', 2, 500, nextAt, nextAt + 1_000)
      .build(6_000);

  it('accepts a takeover between TTL − 100 ms and server TTL + retry + 1 s after the last request', () => {
    expect(checkTakeover(killed(1_350), context).findings).toEqual([]);
  });

  it('finds one too early (the lock did not last its TTL) or too late (a blocked key)', () => {
    expect(checkTakeover(killed(1_100), context).findings).toHaveLength(1);
    expect(checkTakeover(killed(2_900), context).findings).toHaveLength(1);
  });
});

describe('handover', () => {
  it('finds a released key that a waiting worker got only late', () => {
    const history = new HistoryBuilder()
      .grant('w1', 'a', 'k', 1, 0, 10, 2_000)
      .call('w2', 'lock', 100, 3_000, 5_000, 'k')
      .release('w1', 'a', 'k', 500, 510)
      .grant('w3', 'c', 'k', 2, 2_900, 2_950, 4_000)
      .build(5_000);
    const result = checkHandover(history, context);
    expect(result.findings).toHaveLength(1);
  });

  it('does not judge a hand-over next to a disruptive fault', () => {
    const history = new HistoryBuilder()
      .grant('w1', 'a', 'k', 1, 0, 10, 2_000)
      .call('w2', 'lock', 100, 3_000, 5_000, 'k')
      .fault(400)
      .release('w1', 'a', 'k', 500, 510)
      .grant('w3', 'c', 'k', 2, 2_900, 2_950, 4_000)
      .build(5_000);
    expect(checkHandover(history, context).findings).toEqual([]);
  });
});

describe('spurious-loss', () => {
  it('counts every loss as spurious when the scenario should cost none', () => {
    const history = new HistoryBuilder()
      .grant('w1', 'a', 'k', 1, 0, 10, 1_000)
      .lost('w1', 'a', 'k', 500)
      .build(2_000);
    expect(checkSpuriousLoss(history, { ...context, lossExpected: false }).findings).toHaveLength(
      1,
    );
    expect(checkSpuriousLoss(history, context).findings).toEqual([]);
  });
});
