import { EXIT_CODE_DOCS } from './exit-codes.js';

/** Names of the commands, in the order `lock --help` lists them. */
export type CommandName = 'exec' | 'status' | 'wait' | 'elect';

const URI_HELP = `<uri>   the backend: local:, redis://host:6379, rediss://…, memcached://host:11211,
        etcd://host:2379, … (or set LOCK_URL and leave it out). A backend other than
        local: needs its package: npm i @lock/redis (or @lock/memcached, @lock/etcd).
<key>   the lock's name, such as nightly-report.`;

const RUN_FLAGS_HELP = `--ttl D         the lock's time to live, renewed every third of it (default 30s).
                If lock cannot renew it in time, the lock counts as lost.
--grace D       time between SIGTERM and SIGKILL when the lock is lost (default 10s).
--identity N    the name others see as the holder (default <host>:<pid>).
--foreground    keep the command in lock's process group, with the terminal as its own;
                then signals reach only the command's process, not those it starts.
                (Ctrl-Z suspends the command with lock either way.)`;

const DURATIONS = 'Durations: 500ms, 30s, 2m, 1h.';

/** `lock --help`. */
export const MAIN_HELP = `Usage: lock <command> [options]

Run a command under a distributed lock, on any @lock backend.

Commands:
  exec <uri> <key> [options] -- <command> [args…]
                        run the command while holding the lock
  status <uri> <key> [--json]
                        who holds the lock, for how long, with which fence
  wait <uri> <key> [--timeout D]
                        block until nobody holds the lock
  elect <uri> <key> [options] -- <command> [args…]
                        run the command only while this process is the leader

Run lock <command> --help for its options. lock --version prints the version.

Environment:
  LOCK_URL      the backend URI, when it is not given as an argument

Exit codes:
${EXIT_CODE_DOCS.map(({ code, meaning }) => `  ${code.padEnd(7)}${meaning}`).join('\n')}
`;

/** `lock <command> --help`, by command. */
export const COMMAND_HELP: Readonly<Record<CommandName, string>> = {
  exec: `Usage: lock exec <uri> <key> [options] -- <command> [args…]

Takes the lock (waiting for it unless --no-wait), runs the command with the lock kept alive,
releases it when the command exits, and exits with the command's code. The command gets
LOCK_KEY, LOCK_IDENTITY and LOCK_FENCE (a number that grows with every holder) in its
environment. SIGINT, SIGTERM and SIGHUP are passed on to it.

If the lock is lost while the command runs, lock says so on stderr (first "at risk" when a
renewal fails, then "lost"), sends SIGTERM to the command at once and SIGKILL after --grace,
and exits with 125.

${URI_HELP}

Options:
--wait D        wait at most D for the lock, then exit 124 (default: wait as long as it takes).
--no-wait       do not wait: exit 75 at once if the lock is held.
${RUN_FLAGS_HELP}
-h, --help      this help.

${DURATIONS}
Exit codes: the command's own; 75 held (--no-wait); 124 timed out waiting; 125 lock lost;
126 command not executable; 127 command not found; 2 usage error; 69 backend error.
`,
  status: `Usage: lock status <uri> <key> [--json]

Prints who holds the lock, how long it still has and its fence, or that it is free.

${URI_HELP}

Options:
--json          print one JSON object: {"key", "held", "holder", "remainingMs", "fence"}.
-h, --help      this help.

Exit codes: 0 held; 1 free; 2 usage error; 69 backend error.
`,
  wait: `Usage: lock wait <uri> <key> [--timeout D]

Blocks until nobody holds the lock (woken by the backend's notifications where it has them),
without taking it.

${URI_HELP}

Options:
--timeout D     give up after D and exit 124 (default: wait as long as it takes).
-h, --help      this help.

${DURATIONS}
Exit codes: 0 free; 124 still held after --timeout; 2 usage error; 69 backend error.
`,
  elect: `Usage: lock elect <uri> <key> [options] -- <command> [args…]

Campaigns for leadership of the key and runs the command only while this process is the
leader. When leadership is lost, the command is stopped (SIGTERM, then SIGKILL after --grace)
and lock campaigns again. When the command exits by itself, lock gives up leadership and
exits with the command's code. The command gets LOCK_KEY, LOCK_IDENTITY and LOCK_FENCE.
SIGINT, SIGTERM and SIGHUP are passed on to a running command; after SIGINT or SIGTERM, lock
exits once the command has. With none running (following), SIGINT and SIGTERM make lock stop
campaigning and exit, and SIGHUP (a reload) is ignored.

${URI_HELP}

Options:
${RUN_FLAGS_HELP}
-h, --help      this help.

${DURATIONS}
Exit codes: the command's own; 128+S when stopped by SIGINT or SIGTERM while following;
126 command not executable; 127 command not found; 2 usage error; 69 backend error.
`,
};
