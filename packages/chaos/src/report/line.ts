import type { RunOutcome } from '../run/run-once.js';
import { keyFigures, ms } from './figures.js';
import type { Verdict } from './verdict.js';

const LABEL: Readonly<Record<Verdict, string>> = {
  pass: 'PASS ',
  'known-limit': 'LIMIT',
  'known-bug': 'KNOWN',
  fail: 'FAIL ',
  error: 'ERROR',
};

/** The command that replays a run. */
export function replayCommand(
  outcome: RunOutcome,
  variant?: { id: string; flawed: boolean },
): string {
  if (variant !== undefined) {
    return `pnpm chaos --variant ${variant.id}${variant.flawed ? '' : ' --control'} --seed ${outcome.seed}`;
  }
  return `pnpm chaos --backend ${outcome.target} --scenario ${outcome.scenario} --seed ${outcome.seed}`;
}

/** One line per run (and, below a failing one, its first findings and how to replay it). */
export function formatRunLine(outcome: RunOutcome, label?: string): string {
  const head = `${LABEL[outcome.judged.verdict]} ${outcome.target.padEnd(12)} ${(label ?? outcome.scenario).padEnd(34)}`;
  const figures = keyFigures(outcome.results, outcome.figures).join(' · ');
  const lines = [`${head} ${figures} · seed ${outcome.seed} · ${ms(outcome.wallMs)}`];
  if (outcome.error !== undefined) lines.push(`      harness error: ${outcome.error}`);
  for (const note of outcome.judged.notes) {
    if (note.verdict === 'pass') continue;
    const result = outcome.results.find((r) => r.checker === note.checker);
    const count = result?.findings.length ?? 0;
    lines.push(
      `      ${note.checker}: ${count} finding${count === 1 ? '' : 's'} (${note.verdict}): ${result?.findings[0]?.message ?? note.why}`,
    );
  }
  return lines.join('\n');
}
