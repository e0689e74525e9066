/**
 * The REST calls that change the record or fetch an attempt's diff, written once: the sidebar's
 * model and the runs table's model both go through these (each keeps only its own state).
 */
import { experimentPath, requestAPI } from './handler';
import { IAttemptPatch, ILoopList } from './tokens';
import { requestPolled } from './polledModel';

/** Leave a run out of every statistic, with the reason the record keeps. */
export function ignoreRun(experiment: string, runId: string, reason: string): Promise<unknown> {
  return requestAPI(experimentPath(experiment, 'runs', runId, 'ignore'), {
    method: 'POST',
    body: JSON.stringify({ reason })
  });
}

/** Count an ignored run again. */
export function unignoreRun(experiment: string, runId: string): Promise<unknown> {
  return requestAPI(experimentPath(experiment, 'runs', runId, 'unignore'), { method: 'POST', body: '{}' });
}

/** The diff of a loop's attempt (`attempts/NNNN.patch`). */
export function attemptPatch(experiment: string, tag: string, n: number): Promise<IAttemptPatch> {
  return requestAPI<IAttemptPatch>(experimentPath(experiment, 'loops', tag, 'attempts', String(n), 'patch'));
}

/**
 * The experiment's loops, stamped: an unchanged answer is the very object held. A server without
 * loops (or a loop folder it refuses) leaves what was held, so the rest of a view still shows.
 */
export function loops(experiment: string, held: ILoopList | null): Promise<ILoopList | null> {
  return requestPolled<ILoopList>(experimentPath(experiment, 'loops'), held).catch(() => held);
}
