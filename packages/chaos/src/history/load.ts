import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogEvent } from './events.js';

/**
 * Reads every `*.jsonl` file in `dir` and returns their events merged in time order (ties keep
 * file order). A torn last line (a process killed mid-write) is skipped.
 */
export function loadEvents(dir: string): LogEvent[] {
  const events: LogEvent[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.jsonl')) continue;
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        events.push(JSON.parse(line) as LogEvent);
      } catch {
        // a line cut short by SIGKILL: nothing after it in that file can exist
      }
    }
  }
  return sortByTime(events);
}

/** Sorts events by `t` (nanoseconds), stably. */
export function sortByTime(events: readonly LogEvent[]): LogEvent[] {
  return events
    .map((event, index) => ({ event, index, t: BigInt(event.t) }))
    .sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.index - b.index))
    .map(({ event }) => event);
}
