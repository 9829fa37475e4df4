import type { RunHistory } from '../history/model.js';
import { checkCallBounds } from './call-bounds.js';
import { checkFences } from './fences.js';
import { checkHandover } from './handover.js';
import { checkLiveness } from './liveness.js';
import { checkLossTiming } from './loss-timing.js';
import { checkOverlap } from './overlap.js';
import { checkSpuriousLoss } from './spurious-loss.js';
import { checkTakeover } from './takeover.js';
import type { CheckContext, Checker, CheckerName, CheckResult } from './types.js';

/** Every checker, in report order. */
export const CHECKERS: Readonly<Record<CheckerName, Checker>> = {
  overlap: checkOverlap,
  fences: checkFences,
  'loss-timing': checkLossTiming,
  'call-bounds': checkCallBounds,
  liveness: checkLiveness,
  'spurious-loss': checkSpuriousLoss,
  takeover: checkTakeover,
  handover: checkHandover,
};

/** Runs every checker over one run's history. */
export function runCheckers(history: RunHistory, context: CheckContext): CheckResult[] {
  return Object.values(CHECKERS).map((check) => check(history, context));
}
