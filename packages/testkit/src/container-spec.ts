/**
 * What a {@link ServerSpec} needs to run in a container as well as a local process.
 * @module
 */
import type { ServerSpec } from './harness.js';

/**
 * The container side of a server spec: the image, and the command inside the container when
 * it is not the spec's own `command` and `args`.
 * @example
 * ```ts
 * import type { ContainerSpec } from '@lock/testkit';
 *
 * const valkey: ContainerSpec = {
 *   image: 'valkey/valkey:8.0.2',
 *   imageVariable: 'LOCK_TEST_VALKEY_IMAGE',
 * };
 * ```
 */
export interface ContainerSpec {
  /** The image, pinned by tag, used unless `imageVariable` is set. */
  readonly image: string;
  /** The environment variable that replaces `image`, such as `LOCK_TEST_REDIS_IMAGE`. */
  readonly imageVariable: string;
  /**
   * The command inside the container (the image's entrypoint, if any, receives it), given the
   * ports, the scratch folder inside the container and the address to listen on.
   * @default the spec's `[command, ...args(ports, dir, listenHost)]`
   */
  readonly command?: (ports: readonly number[], dir: string, listenHost: string) => string[];
}

/** The image a container spec runs: `$imageVariable` when set, else its pinned `image`. */
export function imageOf(container: ContainerSpec): string {
  return process.env[container.imageVariable] || container.image;
}

/** The command a spec runs inside its container. */
export function containerCommand(
  spec: ServerSpec & { readonly container: ContainerSpec },
  ports: readonly number[],
  dir: string,
  listenHost: string,
): string[] {
  return (
    spec.container.command?.(ports, dir, listenHost) ?? [
      spec.command,
      ...spec.args(ports, dir, listenHost),
    ]
  );
}
