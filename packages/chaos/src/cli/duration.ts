/**
 * Reads a duration such as `10m`, `90s`, `500ms` or `1h` (a bare number is minutes, as in
 * `--soak 10`) into milliseconds.
 * @throws {Error} naming the value and the accepted forms.
 */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match === null) {
    throw new Error(
      `"${text}" is not a duration: use a number with ms, s, m or h, such as 10m or 90s`,
    );
  }
  const value = Number(match[1]);
  const unit = match[2] ?? 'm';
  const factor = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[unit] as number;
  return value * factor;
}
