import { UsageError } from './usage-error.js';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Largest delay a Node timer takes (about 24.8 days); a longer one would fire at once. */
export const MAX_DURATION_MS = 2_147_483_647;

/** Bounds a duration flag must keep. */
export interface DurationRule {
  /** Smallest accepted value in milliseconds (inclusive). */
  readonly minMs: number;
}

/**
 * Reads a duration such as `500ms`, `30s`, `2m`, `1.5h` into milliseconds. A unit is required,
 * so `--ttl 30` (seconds? milliseconds?) is refused rather than guessed.
 * @throws {UsageError} naming `flag`, the value and the rule.
 */
export function parseDuration(flag: string, text: string, rule: DurationRule): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (match === null) {
    throw new UsageError(
      `${flag} ${JSON.stringify(text)} is not a duration: write a number and a unit, such as 500ms, 30s, 2m or 1h`,
    );
  }
  const ms = Math.round(Number(match[1]) * (UNIT_MS[match[2] as string] as number));
  if (ms < rule.minMs) {
    throw new UsageError(
      `${flag} ${JSON.stringify(text)} is too short: the least is ${formatDuration(rule.minMs)}`,
    );
  }
  if (ms > MAX_DURATION_MS) {
    throw new UsageError(`${flag} ${JSON.stringify(text)} is too long: the most is 596h`);
  }
  return ms;
}

/** Formats milliseconds for messages: `850ms`, `12.5s`, `3m`, `2h`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${trim(ms / 1_000)}s`;
  if (ms < 3_600_000) return `${trim(ms / 60_000)}m`;
  return `${trim(ms / 3_600_000)}h`;
}

function trim(value: number): string {
  return String(Math.round(value * 10) / 10);
}
