import { maskSecrets } from '@lock/core';

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Writes `lock`'s own messages to stderr, one line each, prefixed `lock: `, so they never mix
 * with the command's stdout. Every line is scrubbed of the URI's password first: core's errors
 * already mask URIs, but a driver's error (kept as `cause`) might echo one back.
 */
export class Reporter {
  readonly #secrets = new Set<string>();
  readonly #write: (text: string) => void;

  constructor(write: (text: string) => void = (text) => process.stderr.write(text)) {
    this.#write = write;
  }

  /** Remembers the password in `uri` (as written and URL-decoded) so no message shows it. */
  hideSecretsOf(uri: string): void {
    const password = /\/\/[^/@:]*:([^/@]*)@/.exec(uri)?.[1];
    const query = /[?&]password=([^&]*)/i.exec(uri)?.[1];
    for (const secret of [password, query]) {
      if (secret === undefined || secret === '') continue;
      this.#secrets.add(secret);
      try {
        this.#secrets.add(decodeURIComponent(secret));
      } catch {
        // Not valid percent-encoding: the raw form is all there is to hide.
      }
    }
  }

  /** `text` with every known secret replaced by `***`. */
  redact(text: string): string {
    let out = maskSecrets(text);
    for (const secret of this.#secrets) out = out.split(secret).join('***');
    return out;
  }

  /**
   * Writes one line to stderr. Line breaks become spaces and other control characters are
   * escaped: messages quote names chosen by others (a holder's identity), which must not be
   * able to move the cursor or recolour the terminal.
   */
  line(text: string): void {
    const oneLine = text
      .replace(/\s*\n\s*/g, ' ')
      .replace(CONTROL, (c) => JSON.stringify(c).slice(1, -1));
    this.#write(`lock: ${this.redact(oneLine)}\n`);
  }
}

/** An error as one line: its message, then its causes' (two levels), without stack traces. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 3 && current !== undefined && current !== null; depth++) {
    const text = messageOf(current);
    if (text !== '' && !parts.some((part) => part.includes(text))) parts.push(text);
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(': ') || 'unknown error';
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message !== '') return error.message;
  // Node's connection errors over several addresses are AggregateErrors with no message.
  const inner = (error as { errors?: unknown[] }).errors?.[0];
  if (inner !== undefined) return messageOf(inner);
  return (error as { code?: string }).code ?? error.name;
}
