import { describe, expect, it } from '@jest/globals';
import { DeleteFeed } from '../src/delete-feed.js';
import type { DeleteListener } from '../src/folder-watches.js';

/** Joins of a shared watch, played by hand: each join is answered by the next script step. */
function scriptedJoins(steps: ((listener: DeleteListener) => void)[]) {
  const joins: DeleteListener[] = [];
  const left: number[] = [];
  const listen = async (_folder: Buffer, listener: DeleteListener) => {
    const index = joins.length;
    joins.push(listener);
    steps[index]?.(listener);
    return () => {
      left.push(index);
    };
  };
  return { listen, joins, left };
}

describe('DeleteFeed', () => {
  it('joins again when the watch ends while it is being joined, instead of listening to a dead one', async () => {
    const { listen, joins, left } = scriptedJoins([(listener) => listener.ended(), () => {}]);
    const feed = new DeleteFeed(listen, Buffer.from('f/'), new AbortController().signal);
    await feed.listen();
    expect(joins).toHaveLength(2);
    expect(left).toEqual([0]);
    expect(feed.live).toBe(true);
    expect(feed.ended).toBe(false);
  });

  it('falls back to polling when the watch keeps ending while it is joined', async () => {
    const end = (listener: DeleteListener) => listener.ended();
    const { listen, joins } = scriptedJoins([end, end, end]);
    const feed = new DeleteFeed(listen, Buffer.from('f/'), new AbortController().signal);
    await feed.listen();
    expect(joins).toHaveLength(2);
    expect(feed.live).toBe(false);
    expect(feed.ended).toBe(false); // so the waiter polls instead of re-reading in a loop
  });

  it('reports an end after it joined, so the waiter listens and reads again', async () => {
    const { listen, joins } = scriptedJoins([() => {}]);
    const feed = new DeleteFeed(listen, Buffer.from('f/'), new AbortController().signal);
    await feed.listen();
    let woken = 0;
    feed.onEvent = () => {
      woken += 1;
    };
    joins[0]?.ended();
    expect(woken).toBe(1);
    expect(feed.live).toBe(false);
    expect(feed.ended).toBe(true);
  });
});
