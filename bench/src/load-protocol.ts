/** What the runner and the load generator process say to each other over IPC. */

/** How a response is judged whole: `sse` needs `message_stop`; `body` a 200 whose body ended. */
export type ResponseCheck = 'sse' | 'body';

export interface LoadSpec {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  check: ResponseCheck;
  concurrency: number;
  /**
   * `closed`: `concurrency` workers each send a request as soon as their previous one ended, for
   * `warmupMs` unrecorded and then `durationMs` recorded. `once`: `concurrency` requests at once,
   * each recorded, the run ends when the last one does (or `graceMs` after the start).
   */
  mode: 'closed' | 'once';
  warmupMs: number;
  durationMs: number;
  /** After the window: how long requests still running may take before they are aborted. */
  graceMs: number;
}

export interface LoadResult {
  /** Milliseconds of the recorded window (closed), or from the first request to the last end (once). */
  windowMs: number;
  /** Good responses that ended inside the window: requests/s is this over windowMs. */
  completedInWindow: number;
  /** Requests started inside the window (closed) or all of them (once). */
  started: number;
  /** Per good response started in the window: request start to last byte, and to first body byte (ms). */
  latencies: number[];
  ttfbs: number[];
  /** Per good response: the longest pause between two body chunks (ms); only in `once` mode. */
  maxGaps: number[];
  /** Non-200 answers and transport failures, warm-up included. */
  errors: number;
  /** 200 answers that ended without their completion mark (or were still running at the deadline). */
  incomplete: number;
  /** Count per reason ("status 529", "UND_ERR_SOCKET", "no message_stop"), for the report. */
  reasons: Record<string, number>;
}

export type ToLoadgen = { type: 'run'; id: number; spec: LoadSpec };

/**
 * `start` / `end`: the recorded window opened or closed (the runner samples process CPU then);
 * `opened` (`once` mode): every request has had its first body byte, so all streams are open.
 */
export type WindowPhase = 'start' | 'end' | 'opened';

export type FromLoadgen =
  | { type: 'ready' }
  | { type: 'window'; id: number; phase: WindowPhase }
  | { type: 'result'; id: number; result: LoadResult }
  | { type: 'failed'; id: number; message: string };
