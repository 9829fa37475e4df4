/**
 * `pnpm chaos`: runs the chaos suite (see the package README). Exit code 0 when every run passed
 * (or found only documented limits and known, reported bugs) and every checker caught its
 * broken variant; 1 otherwise; 2 for a usage error.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseChaosArgs, USAGE } from './cli/args.js';
import { SCENARIOS } from './plan/scenarios.js';
import { planSuite } from './plan/suite.js';
import { TARGETS } from './plan/targets.js';
import { VARIANTS } from './plan/variants.js';
import { runSuite } from './run/suite-runner.js';

const sourceDir = dirname(fileURLToPath(import.meta.url));
/** `chaos-results/` at the repository root, next to `bench-results/`. */
const defaultOut = join(sourceDir, '../../../chaos-results');

let args: ReturnType<typeof parseChaosArgs>;
try {
  args = parseChaosArgs(process.argv.slice(2), defaultOut);
} catch (error) {
  console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
if (args.list) {
  console.log(`backends: ${TARGETS.map((t) => t.name).join(', ')}`);
  for (const scenario of SCENARIOS)
    console.log(`scenario ${scenario.id} (${scenario.targets.join(', ')}): ${scenario.summary}`);
  for (const variant of VARIANTS)
    console.log(
      `variant ${variant.id} → ${variant.checker} in ${variant.scenario}: ${variant.summary}`,
    );
  process.exit(0);
}
let plan: ReturnType<typeof planSuite>;
try {
  plan = planSuite(args, args.seed ?? Date.now() % 2_147_483_647);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
}
const command = `pnpm chaos ${process.argv.slice(2).join(' ')}`.trim();
process.exitCode = await runSuite(args, plan, command, sourceDir);
