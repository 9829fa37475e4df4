import { BackendError } from '@lock/core';
import type { ITxnRequest } from 'etcd3';
import type { TxnReply } from './attempts.js';

/** Runs one transaction; `operation` and `key` name it in errors. */
export type SendTxn = (request: ITxnRequest, operation: string, key?: string) => Promise<TxnReply>;

interface Pending {
  readonly request: ITxnRequest;
  readonly folder: string;
  readonly operation: string;
  readonly key: string;
  readonly resolve: (reply: TxnReply) => void;
  readonly reject: (error: unknown) => void;
}

/** Most transactions nested in one (etcd refuses more than `--max-txn-ops`, 128 by default). */
const MAX_BATCH = 64;

/**
 * Merges the acquire and release transactions made in the same tick into one etcd
 * transaction, each nested as its own `request_txn` with its own compares and branches.
 *
 * With many locks taken at once, each gRPC call costs the client far more CPU than etcd spends
 * on it (grpc-js builds an HTTP/2 stream per call), and each write is a raft commit; one call
 * and one commit for the whole tick lifts throughput severalfold. Each caller gets its own
 * nested reply after one round trip; a call waits only for the end of the current tick.
 *
 * Two rules keep it exact:
 * - **One lock per batch at most.** etcd evaluates every nested compare against the state
 *   before the transaction, so two acquires of one lock in one batch would both see it free.
 *   A second call for a lock already in the batch starts the next batch.
 * - **Batches go out one after another**, each once the previous one answered, so calls on one
 *   lock are applied in the order they were made (a release before a later acquire).
 *
 * Every nested write of a batch commits at the batch's revision, which is the fence of each
 * lock acquired in it: still strictly growing per lock, as a lock appears once per batch.
 * A batch that etcd refuses because of one of its calls (a lease that expired, a key the user
 * may not write) is sent again as single calls, all at once, so each call gets its own answer
 * and one call's lease error never makes a batch-mate drop a live lease. A batch that fails
 * otherwise (no reply, a cluster without leader) fails every call in it.
 */
export class TxnBatcher {
  readonly #send: SendTxn;
  readonly #refusedForOne: (error: unknown) => boolean;
  #pending: Pending[] = [];

  /**
   * @param send runs one transaction (under the backend's deadline and error mapping).
   * @param refusedForOne whether etcd refused a batch for one call's sake (then each call is
   * sent alone).
   */
  constructor(send: SendTxn, refusedForOne: (error: unknown) => boolean) {
    this.#send = send;
    this.#refusedForOne = refusedForOne;
  }

  /**
   * Queues `request`, which touches only the lock folder `folder` (of lock `key`), and settles
   * with its own reply.
   */
  run(request: ITxnRequest, folder: string, operation: string, key: string): Promise<TxnReply> {
    return new Promise((resolve, reject) => {
      if (this.#pending.length === 0) process.nextTick(() => void this.#flush());
      this.#pending.push({ request, folder, operation, key, resolve, reject });
    });
  }

  async #flush(): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    let batch: Pending[] = [];
    const folders = new Set<string>();
    for (const call of pending) {
      if (folders.has(call.folder) || batch.length === MAX_BATCH) {
        await this.#sendBatch(batch);
        batch = [];
        folders.clear();
      }
      batch.push(call);
      folders.add(call.folder);
    }
    await this.#sendBatch(batch);
  }

  async #sendBatch(batch: Pending[]): Promise<void> {
    const first = batch[0];
    if (first === undefined) return;
    if (batch.length === 1) {
      await this.#sendAlone(first);
      return;
    }
    let reply: TxnReply;
    try {
      const operations = [...new Set(batch.map((call) => call.operation))].join(' and ');
      reply = await this.#send(
        { compare: [], success: batch.map((call) => ({ request_txn: call.request })) },
        `${operations} of ${batch.length} locks`,
      );
    } catch (error) {
      if (this.#refusedForOne(error)) await Promise.all(batch.map((call) => this.#sendAlone(call)));
      else for (const call of batch) call.reject(error);
      return;
    }
    for (const [i, call] of batch.entries()) {
      const nested = reply.responses[i]?.response_txn;
      if (nested === undefined || nested === null) {
        call.reject(
          new BackendError('etcd answered a batched transaction without its nested reply', {
            cause: reply,
          }),
        );
        continue;
      }
      // Nested replies carry an empty header: the batch's revision is every write's revision.
      // A batch the driver sent twice sent each of its calls twice.
      call.resolve({
        header: reply.header,
        succeeded: nested.succeeded,
        responses: nested.responses,
        attempts: reply.attempts,
      });
    }
  }

  #sendAlone(call: Pending): Promise<void> {
    return this.#send(call.request, call.operation, call.key).then(call.resolve, call.reject);
  }
}
