/**
 * A signal that aborts when either `a` or `b` does, with that one's reason (what
 * `AbortSignal.any` does, which Node only has from 20.3). Returns a disposer that removes its
 * listeners.
 */
export function eitherSignal(a: AbortSignal, b: AbortSignal): [AbortSignal, () => void] {
  const controller = new AbortController();
  const fromA = () => controller.abort(a.reason);
  const fromB = () => controller.abort(b.reason);
  if (a.aborted) fromA();
  else if (b.aborted) fromB();
  a.addEventListener('abort', fromA, { once: true });
  b.addEventListener('abort', fromB, { once: true });
  return [
    controller.signal,
    () => {
      a.removeEventListener('abort', fromA);
      b.removeEventListener('abort', fromB);
    },
  ];
}
