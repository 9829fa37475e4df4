import { Socket } from 'node:net';

/** Longest wait for the resource's answer; it runs on this host and answers in microseconds. */
const REPLY_TIMEOUT_MS = 2_000;

/**
 * The worker's connection to the fenced resource: one TCP socket, one JSON line per write, one
 * line back (`{"id":…,"accepted":true}`).
 */
export class ResourceClient {
  readonly #socket: Socket;
  readonly #waiting = new Map<number, (accepted: boolean) => void>();
  #nextId = 1;
  #buffer = '';

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => this.#read(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      for (const reject of this.#waiting.values()) reject(false);
      this.#waiting.clear();
    });
  }

  /** Connects to the resource on 127.0.0.1:`port`. */
  static connect(port: number): Promise<ResourceClient> {
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      socket.once('error', reject);
      socket.connect(port, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve(new ResourceClient(socket));
      });
    });
  }

  /**
   * Writes to `key` with `fence`; resolves whether the resource accepted it, or `undefined`
   * when no answer came.
   */
  write(key: string, fence: number, hold: string): Promise<boolean | undefined> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        resolve(undefined);
      }, REPLY_TIMEOUT_MS);
      this.#waiting.set(id, (accepted) => {
        clearTimeout(timer);
        resolve(accepted);
      });
      this.#socket.write(`${JSON.stringify({ id, key, fence, hold })}\n`);
    });
  }

  /** Closes the connection. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#socket.destroyed) {
        resolve();
        return;
      }
      this.#socket.once('close', () => resolve());
      this.#socket.end();
    });
  }

  #read(chunk: string): void {
    this.#buffer += chunk;
    let newline = this.#buffer.indexOf('\n');
    while (newline >= 0) {
      const line = this.#buffer.slice(0, newline);
      this.#buffer = this.#buffer.slice(newline + 1);
      const reply = JSON.parse(line) as { id: number; accepted: boolean };
      this.#waiting.get(reply.id)?.(reply.accepted);
      this.#waiting.delete(reply.id);
      newline = this.#buffer.indexOf('\n');
    }
  }
}
