import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import type { UncontendedResult } from './workloads.js';

const run = promisify(execFile);
/** The compare-and-delete every careful Redis lock releases with. */
export const COMPARE_AND_DELETE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** One `redis-benchmark --csv` line's figures. */
interface BenchmarkLine {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** The figures of the last line of `redis-benchmark --csv` output. */
export function parseRedisBenchmarkCsv(output: string): BenchmarkLine {
  const lines = output.trim().split('\n');
  const header = (lines[0] ?? '').split(',').map((h) => h.replaceAll('"', ''));
  const values = (lines.at(-1) ?? '').split('","').map((v) => v.replaceAll('"', ''));
  // The command is the first column and may contain commas: count the figures from the end.
  const figure = (name: string) => {
    const index = header.indexOf(name);
    return Number(values[values.length - (header.length - index)]);
  };
  const line = {
    rps: figure('rps'),
    p50Ms: figure('p50_latency_ms'),
    p99Ms: figure('p99_latency_ms'),
  };
  if (!Number.isFinite(line.rps) || line.rps <= 0)
    throw new Error(`redis-benchmark printed no figures: ${output.slice(0, 200)}`);
  return line;
}

/**
 * The Redis server's own floor for a lock's acquire+release pair: `redis-benchmark` (the C
 * client that ships with redis-server) sending the same SET NX PX and EVALSHA compare-and-delete
 * the Node clients send, with `inFlight` connections. It runs one command at a time, so a pair is
 * one run of each, about `durationMs / 2` apiece, and the pair rate is 1 / (1/SET rate + 1/EVALSHA
 * rate). Its keys are random (`-r`) and it cannot replay the SET's keys for the delete, so the
 * compare finds no key and skips the DEL: a floor a little above what a real release costs.
 */
export class RedisBenchmarkFloor {
  readonly name = 'redis-benchmark (C client, server floor)';
  readonly #host: string;
  readonly #port: string;
  readonly #sha: string;
  /** Requests per second seen last, per in-flight count: sizes the next run's `-n`. */
  readonly #rates = new Map<number, number>();

  private constructor(host: string, port: string, sha: string) {
    this.#host = host;
    this.#port = port;
    this.#sha = sha;
  }

  /** Loads the compare-and-delete script into the server at `url` and checks redis-benchmark runs. */
  static async start(url: string): Promise<RedisBenchmarkFloor> {
    const { hostname, port } = new URL(url);
    const client = createClient({ url });
    await client.connect();
    const sha = await client.scriptLoad(COMPARE_AND_DELETE);
    await client.quit();
    await run('redis-benchmark', ['--version']).catch((error: Error) => {
      throw new Error(
        `redis-benchmark (installed with redis-server) did not run: ${error.message}`,
      );
    });
    return new RedisBenchmarkFloor(hostname, port || '6379', sha);
  }

  /** Pairs at `inFlight` connections for about `durationMs`. */
  async uncontended(inFlight: number, durationMs: number): Promise<UncontendedResult> {
    const rate = this.#rates.get(inFlight) ?? (inFlight === 1 ? 5_000 : 30_000);
    const requests = Math.max(1_000, Math.round((rate * durationMs) / 2 / 1000));
    const acquire = await this.#run(inFlight, requests, [
      'SET',
      'lock:__rand_int__',
      'owner-token',
      'NX',
      'PX',
      '10000',
    ]);
    const release = await this.#run(inFlight, requests, [
      'EVALSHA',
      this.#sha,
      '1',
      'lock:__rand_int__',
      'owner-token',
    ]);
    this.#rates.set(inFlight, (acquire.rps + release.rps) / 2);
    const pairsPerSecond = 1 / (1 / acquire.rps + 1 / release.rps);
    return {
      pairs: requests,
      pairsPerSecond,
      p50Ms: acquire.p50Ms + release.p50Ms,
      p99Ms: acquire.p99Ms + release.p99Ms,
      errors: 0,
      cpuUsPerPair: undefined,
    };
  }

  async #run(inFlight: number, requests: number, command: string[]): Promise<BenchmarkLine> {
    const { stdout } = await run('redis-benchmark', [
      ...['-h', this.#host, '-p', this.#port, '-c', String(inFlight), '-n', String(requests)],
      ...['-r', '100000000', '--precision', '3', '--csv', ...command],
    ]);
    return parseRedisBenchmarkCsv(stdout);
  }
}
