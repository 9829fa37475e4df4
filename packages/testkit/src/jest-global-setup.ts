// Jest's global setup for every package (jest.preset.cjs): decides once per run where the test
// servers run, prints the choice and its reason, and hands it to the test workers through the
// environment they inherit. Extensionless import: jest loads this file outside its module
// mapper, where './provider-choice.js' would not resolve to the .ts source.
import { chooseProvider } from './provider-choice';

/** Decides the test-server provider before any test file runs (see `provider-choice.ts`). */
export default async function decideTestServers(): Promise<void> {
  const choice = chooseProvider();
  // testcontainers must use the engine that answered the probe, not find another one.
  if (choice.dockerHost !== undefined && !process.env['DOCKER_HOST']) {
    process.env['DOCKER_HOST'] = choice.dockerHost;
  }
}
