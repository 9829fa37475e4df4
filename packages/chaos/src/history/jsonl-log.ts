import { closeSync, openSync, writeSync } from 'node:fs';
import { nowNs } from './clock.js';
import type { LogEvent, WithoutTime } from './events.js';

/**
 * Appends events to a JSONL file, one synchronous write each, so that every line written before
 * a SIGKILL is on disk and lines of one process keep their order. Stamps each with `t` (now) and
 * `src` unless given.
 */
export class JsonlLog {
  readonly #fd: number;
  readonly #src: string;

  constructor(path: string, src: string) {
    this.#fd = openSync(path, 'a');
    this.#src = src;
  }

  /** Writes one event, stamped now (or at `t`) and with this log's source (or `src`). */
  write(event: WithoutTime<LogEvent> & { t?: string; src?: string }): void {
    const line = JSON.stringify({ t: nowNs(), src: this.#src, ...event });
    writeSync(this.#fd, `${line}\n`);
  }

  /** Closes the file. */
  close(): void {
    closeSync(this.#fd);
  }
}
