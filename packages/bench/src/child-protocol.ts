import type { ContenderReport, HeldManyResult } from './workloads.js';

/** Which configuration of an adapter a task uses: the suite's common one, or its library's defaults. */
export type Footing = 'equal' | 'defaults';

/** A task the parent sends a bench child process. */
export type ChildTask =
  | {
      readonly type: 'contend';
      readonly id: number;
      readonly adapter: string;
      readonly footing: Footing;
      readonly key: string;
      readonly startAt: number;
      readonly endAt: number;
      readonly workMs: number;
    }
  | {
      readonly type: 'held';
      readonly id: number;
      readonly adapter: string;
      readonly count: number;
      readonly ttlMs: number;
      readonly holdMs: number;
    }
  | { readonly type: 'close'; readonly id: number };

/** What a bench child process answers. */
export type ChildReply =
  | { readonly type: 'ready'; readonly adapters: string[] }
  | { readonly type: 'contended'; readonly id: number; readonly report: ContenderReport | null }
  | { readonly type: 'held'; readonly id: number; readonly result: HeldManyResult }
  | { readonly type: 'closed'; readonly id: number }
  | { readonly type: 'error'; readonly id?: number; readonly message: string };
