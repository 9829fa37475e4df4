import { parseArgs } from 'node:util';
import { parseDuration } from './duration.js';

/** What `pnpm chaos` was asked to do. */
export interface ChaosArgs {
  /** The few-minute set CI runs. */
  readonly smoke: boolean;
  /** Run the random nemesis for this long (ms). */
  readonly soakMs: number | undefined;
  readonly backends: readonly string[] | undefined;
  readonly scenarios: readonly string[] | undefined;
  readonly variants: readonly string[] | undefined;
  /** Run the variant detection (default: with the full suite, not with a filter). */
  readonly withVariants: boolean | undefined;
  /** With `--variant` and `--seed`: replay the variant's control run instead of a flawed one. */
  readonly control: boolean;
  /** Exact seed of every selected run (replay), instead of seeds derived from the time. */
  readonly seed: number | undefined;
  /** Runs per scenario and backend. */
  readonly runs: number | undefined;
  /** Runs per variant (its control gets a quarter). */
  readonly variantRuns: number | undefined;
  readonly workers: number;
  readonly out: string;
  /** Also write the report here (for the committed copy). */
  readonly report: string | undefined;
  readonly keepLogs: boolean;
  readonly list: boolean;
  readonly help: boolean;
}

/** The `--help` text. */
export const USAGE = `pnpm chaos [options]

  (no option)            every scenario on every backend, then the variant detection
  --smoke                the few-minute set CI runs
  --soak <duration>      the random nemesis on every backend, round after round (10m, 1h)
  --backend <a,b>        only these backends (local, redis, redlock, memcached, etcd, etcd-cluster)
  --scenario <a,b>       only these scenarios
  --variant <a,b>        only these broken variants (implies --variants)
  --variants / --no-variants   run / skip the variant detection
  --seed <n>             run each selected scenario (or variant) once with exactly this seed:
                         replays a run
  --control              with --variant and --seed: replay the variant's control run
  --runs <n>             runs per scenario and backend (default 1)
  --variant-runs <n>     runs per variant (default 20; its control runs a quarter as many)
  --workers <n>          workers per run (default 4)
  --out <dir>            results folder (default chaos-results/ at the repository root)
  --report <file>        also write the markdown report there
  --keep-logs            keep the logs of passing runs too
  --list                 list backends, scenarios and variants
`;

/** Parses `argv` (without node and the script); results go to `defaultOut` unless `--out`. */
export function parseChaosArgs(argv: readonly string[], defaultOut: string): ChaosArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      smoke: { type: 'boolean', default: false },
      soak: { type: 'string' },
      backend: { type: 'string' },
      scenario: { type: 'string' },
      variant: { type: 'string' },
      variants: { type: 'boolean' },
      'no-variants': { type: 'boolean' },
      control: { type: 'boolean', default: false },
      seed: { type: 'string' },
      runs: { type: 'string' },
      'variant-runs': { type: 'string' },
      workers: { type: 'string', default: '4' },
      out: { type: 'string', default: defaultOut },
      report: { type: 'string' },
      'keep-logs': { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const list = (text: string | undefined) =>
    text === undefined ? undefined : text.split(',').filter(Boolean);
  const count = (text: string | undefined, name: string) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0)
      throw new Error(`--${name} must be a whole number ≥ 0, got "${text}"`);
    return n;
  };
  const variants = list(values.variant);
  return {
    smoke: values.smoke ?? false,
    soakMs: values.soak === undefined ? undefined : parseDuration(values.soak),
    backends: list(values.backend),
    scenarios: list(values.scenario),
    variants,
    withVariants: values['no-variants']
      ? false
      : values.variants || variants !== undefined
        ? true
        : undefined,
    control: values.control ?? false,
    seed: count(values.seed, 'seed'),
    runs: count(values.runs, 'runs'),
    variantRuns: count(values['variant-runs'], 'variant-runs'),
    workers: atLeastOne(count(values.workers, 'workers') ?? 4, 'workers'),
    out: values.out ?? defaultOut,
    report: values.report,
    keepLogs: values['keep-logs'] ?? false,
    list: values.list ?? false,
    help: values.help ?? false,
  };
}

function atLeastOne(n: number, name: string): number {
  if (n < 1) throw new Error(`--${name} must be at least 1, got ${n}`);
  return n;
}
