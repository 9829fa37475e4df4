/**
 * Reads a Go-style duration as used in etcd connection strings (`500ms`, `2s`, `1m`, `1.5s`,
 * `1m30s`) or a bare number of milliseconds. Returns `undefined` when it is not one.
 */
export function parseDuration(text: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let index = 0;
  while (index < text.length) {
    pattern.lastIndex = index;
    const match = pattern.exec(text);
    if (match === null) return undefined;
    total += Number(match[1]) * (units[match[2] as string] as number);
    index = pattern.lastIndex;
  }
  return index === 0 ? undefined : total;
}
