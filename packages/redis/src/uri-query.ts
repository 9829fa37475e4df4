import { InvalidConnectionStringError } from '@lock/core';

/** How a query parameter's text is read. */
export type QueryKind = 'ms' | 'bool' | 'string' | 'fraction';

/** One query parameter: the option it sets and how its value is read. */
export interface QueryParameter {
  readonly option: string;
  readonly kind: QueryKind;
}

/** The query parameters of `redis://` (and `redis-cluster://`), by name. */
export const REDIS_QUERY: Readonly<Record<string, QueryParameter>> = {
  prefix: { option: 'prefix', kind: 'string' },
  'connect-timeout': { option: 'connectTimeout', kind: 'ms' },
  'command-timeout': { option: 'commandTimeout', kind: 'ms' },
  fair: { option: 'fair', kind: 'bool' },
  'queue-poll-interval': { option: 'queuePollInterval', kind: 'ms' },
  'queue-entry-ttl': { option: 'queueEntryTtl', kind: 'ms' },
  'check-eviction-policy': { option: 'checkEvictionPolicy', kind: 'bool' },
};

/** The query parameters of `redlock://`: those of `redis://` that apply, and `drift-factor`. */
export const REDLOCK_QUERY: Readonly<Record<string, QueryParameter>> = {
  prefix: { option: 'prefix', kind: 'string' },
  'connect-timeout': { option: 'connectTimeout', kind: 'ms' },
  'command-timeout': { option: 'commandTimeout', kind: 'ms' },
  'check-eviction-policy': { option: 'checkEvictionPolicy', kind: 'bool' },
  'drift-factor': { option: 'driftFactor', kind: 'fraction' },
};

/**
 * Reads `name=value` pairs into options by `table`; an unknown name, or one that does not apply
 * to this scheme (`scheme`, for the message), is an {@link InvalidConnectionStringError}.
 */
export function readQuery(
  uri: string,
  pairs: Iterable<[string, string]>,
  table: Readonly<Record<string, QueryParameter>>,
  scheme: string,
): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const [name, value] of pairs) {
    const spec = table[name];
    if (spec === undefined) {
      const elsewhere = name in REDIS_QUERY || name in REDLOCK_QUERY;
      throw new InvalidConnectionStringError(
        uri,
        `${elsewhere ? `query parameter "${name}" does not apply to ${scheme}://` : `unknown query parameter "${name}"`} (known: ${Object.keys(table).join(', ')})`,
      );
    }
    options[spec.option] = readValue(uri, name, value, spec.kind);
  }
  return options;
}

/** Splits a raw query string (`a=1&b=2`, without `?`) into decoded pairs. */
export function queryPairs(uri: string, query: string): [string, string][] {
  return query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return [
        decode(uri, eq < 0 ? pair : pair.slice(0, eq)),
        decode(uri, eq < 0 ? '' : pair.slice(eq + 1)),
      ];
    });
}

/** `decodeURIComponent`, as an {@link InvalidConnectionStringError} when malformed. */
export function decode(uri: string, text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch (error) {
    throw new InvalidConnectionStringError(uri, 'bad percent-encoding', error);
  }
}

function readValue(uri: string, name: string, value: string, kind: QueryKind): unknown {
  if (kind === 'string') return value;
  if (kind === 'bool') {
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    throw new InvalidConnectionStringError(uri, `"${name}" must be true or false`);
  }
  if (kind === 'fraction') {
    if (!/^\d+(\.\d+)?$/.test(value)) {
      throw new InvalidConnectionStringError(uri, `"${name}" must be a number such as 0.01`);
    }
    return Number(value);
  }
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value);
  if (match === null) {
    throw new InvalidConnectionStringError(
      uri,
      `"${name}" must be a duration such as 500ms, 2s or 1m`,
    );
  }
  const unit = match[2] === 's' ? 1_000 : match[2] === 'm' ? 60_000 : 1;
  return Number(match[1]) * unit;
}
