import { readdirSync, readFileSync } from 'node:fs';

/**
 * Sends SIGSTOP and returns only once every thread of `pid` is stopped.
 *
 * `kill()` returns before a multi-threaded server (etcd is Go) has stopped: a thread running
 * on another core can still answer a request sent right after. Tests that freeze a server
 * and then expect no reply would pass or fail by chance; waiting on `/proc` makes them exact.
 * Where `/proc` is missing (not Linux) this falls back to the signal alone.
 */
export function freezeProcess(pid: number, kill: (signal: NodeJS.Signals) => void): void {
  kill('SIGSTOP');
  const deadline = Date.now() + 2_000;
  while (!allThreadsStopped(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} did not stop within 2 s of SIGSTOP`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1); // sleep 1 ms
  }
}

function allThreadsStopped(pid: number): boolean {
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return true; // no /proc: nothing more to wait on
  }
  return threads.every((thread) => {
    try {
      // The state letter follows the parenthesised command name: "T" is stopped.
      const stat = readFileSync(`/proc/${pid}/task/${thread}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return state === 'T' || state === 't';
    } catch {
      return true; // the thread exited
    }
  });
}
