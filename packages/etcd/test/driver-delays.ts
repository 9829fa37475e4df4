import type { Etcd3, ITxnRequest, ITxnResponse } from 'etcd3';

type Txn = (request: ITxnRequest) => Promise<ITxnResponse>;

/**
 * Wraps the next `client.kv.txn` call of a real client (the backend's own), as a slow network
 * would: `sendAfterMs` holds the request back before it leaves, `replyAfterMs` holds back the
 * reply after etcd answered. Resolves once that call was sent. Later calls go through untouched.
 */
export function delayNextTxn(
  client: Etcd3,
  { sendAfterMs = 0, replyAfterMs = 0 }: { sendAfterMs?: number; replyAfterMs?: number },
): Promise<void> {
  const kv = client.kv as unknown as { txn: Txn };
  const original = kv.txn;
  return new Promise((sent) => {
    kv.txn = async (request) => {
      kv.txn = original;
      await pause(sendAfterMs);
      const reply = original.call(client.kv, request);
      sent();
      const answer = await reply;
      await pause(replyAfterMs);
      return answer;
    };
  });
}

function pause(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

/**
 * Holds back the next `client.leaseClient.leaseTimeToLive` call of a real client by
 * `sendAfterMs` before it leaves. Later calls go through untouched.
 */
export function delayNextLeaseTimeToLive(client: Etcd3, sendAfterMs: number): void {
  const lease = client.leaseClient as unknown as { leaseTimeToLive: LeaseTimeToLive };
  const original = lease.leaseTimeToLive;
  lease.leaseTimeToLive = async (request) => {
    lease.leaseTimeToLive = original;
    await pause(sendAfterMs);
    return original.call(client.leaseClient, request);
  };
}

type LeaseTimeToLive = Etcd3['leaseClient']['leaseTimeToLive'];

/**
 * Hands the next `client.kv.txn` call of a real client whose request `matches` to `around`,
 * with `send` to send it for real; later calls go through untouched. For faults that must hit
 * one particular transaction (its reply lost on the wire, say) while the others pass.
 */
export function aroundNextTxn(
  client: Etcd3,
  matches: (request: ITxnRequest) => boolean,
  around: (send: () => Promise<ITxnResponse>) => Promise<ITxnResponse>,
): void {
  const kv = client.kv as unknown as { txn: Txn };
  const original = kv.txn;
  kv.txn = (request) => {
    if (!matches(request)) return original.call(client.kv, request);
    kv.txn = original;
    return around(() => original.call(client.kv, request));
  };
}
