/**
 * Checks of the names users give: collections, tables, databases, prefixes.
 * @module
 */
import { InvalidArgumentError } from '@lock/core';

/** Throws unless `value` is a non-empty string of at most `maxBytes` UTF-8 bytes matching `rule`. */
export function checkName(
  value: unknown,
  name: string,
  rule: { readonly pattern: RegExp; readonly text: string; readonly maxBytes: number },
): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(name, value, 'must be a non-empty string');
  }
  if (!rule.pattern.test(value)) throw new InvalidArgumentError(name, value, rule.text);
  if (Buffer.byteLength(value, 'utf8') > rule.maxBytes) {
    throw new InvalidArgumentError(name, value, `must be at most ${rule.maxBytes} bytes long`);
  }
}

/** Splits a query string into name/value pairs, rejecting a name given twice. */
export function queryParameters(
  query: string,
  onDuplicate: (name: string) => never,
): Map<string, string> {
  const parameters = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(query)) {
    if (parameters.has(name)) onDuplicate(name);
    parameters.set(name, value);
  }
  return parameters;
}
