import { perfToNs } from '../history/clock.js';
import type { JsonlLog } from '../history/jsonl-log.js';

/** How often the heartbeat runs (ms). */
const BEAT_MS = 5;
/** A gap between beats longer than this (a beat 3 ms late) is logged as a stall (ms). */
const STALL_MS = 8;

/**
 * A 5 ms heartbeat in each worker process. It logs every stall of the event loop longer than
 * 8 ms (the checkers treat a stalled process like a paused one: it could not have run a timer
 * then), and on each beat runs `onBeat`, which the actors use to notice changes of the
 * library's validity soon after they happen.
 */
export class Heartbeat {
  readonly #timer: ReturnType<typeof setInterval>;
  #last = performance.now();

  constructor(log: JsonlLog, onBeat: () => void) {
    this.#timer = setInterval(() => {
      const now = performance.now();
      if (now - this.#last > STALL_MS) {
        log.write({ type: 'stall', from: perfToNs(this.#last), to: perfToNs(now) });
      }
      this.#last = now;
      onBeat();
    }, BEAT_MS);
  }

  /** Stops the heartbeat. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
