import { Socket } from 'node:net';

/** Which wire protocol the filler speaks. */
export type FillerProtocol = 'redis' | 'memcached';

/**
 * Fills a server's memory with junk keys (raw text protocol on one socket: RESP inline commands
 * for Redis, `set` for memcached), so it starts evicting. Values are about the size of a lock
 * entry, so memcached evicts from the same slab class as the locks. Reads and discards replies.
 */
export class MemoryFiller {
  readonly #socket: Socket;
  readonly #protocol: FillerProtocol;
  #count = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  private constructor(socket: Socket, protocol: FillerProtocol) {
    this.#socket = socket;
    this.#protocol = protocol;
    socket.on('data', () => {});
    socket.on('error', () => {});
  }

  /** Connects to the server at 127.0.0.1:`port`. */
  static connect(port: number, protocol: FillerProtocol): Promise<MemoryFiller> {
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      socket.once('error', reject);
      socket.connect(port, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve(new MemoryFiller(socket, protocol));
      });
    });
  }

  /** Writes `perTick` keys every 50 ms until {@link MemoryFiller.stop}. */
  start(perTick: number): void {
    const value = 'x'.repeat(this.#protocol === 'redis' ? 2_000 : 120);
    this.#timer = setInterval(() => {
      let batch = '';
      for (let i = 0; i < perTick; i++) {
        const key = `chaos-filler-${this.#count++}`;
        batch +=
          this.#protocol === 'redis'
            ? `SET ${key} ${value}\r\n`
            : `set ${key} 0 0 ${value.length} noreply\r\n${value}\r\n`;
      }
      this.#socket.write(batch);
    }, 50);
  }

  /** Stops writing and closes the connection. */
  stop(): void {
    clearInterval(this.#timer);
    this.#socket.destroy();
  }
}

/** Reads a counter of evicted keys (`INFO stats` / `stats`) from the server at `port`. */
export function readEvictions(port: number, protocol: FillerProtocol): Promise<number> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let text = '';
    const done = (value: number) => {
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(Number.NaN), 2_000);
    socket.on('error', () => done(Number.NaN));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const pattern = protocol === 'redis' ? /evicted_keys:(\d+)/ : /STAT evictions (\d+)/;
      const match = pattern.exec(text);
      if (match !== null) {
        clearTimeout(timer);
        done(Number(match[1]));
      }
    });
    socket.connect(port, '127.0.0.1', () => {
      socket.write(protocol === 'redis' ? 'INFO stats\r\n' : 'stats\r\n');
    });
  });
}
