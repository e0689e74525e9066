import * as React from 'react';

import { formatValue } from '../format';
import type { TranslationBundle } from '@jupyterlab/translation';

import { IAttemptPatch, ILoop, ILoopAttempt, ILoopList } from '../tokens';
import { useTrans } from '../trans';
import { AttemptPatch, metricText } from './LoopView';

/** How many of a loop's latest attempts the sidebar lists (the runs panel lists them all). */
export const SIDEBAR_ATTEMPTS = 5;

export interface ISidebarLoopsProps {
  loops: ILoopList | null;
  patch: IAttemptPatch | null;
  onOpenAttempt: (tag: string, n: number) => void;
  onClosePatch: () => void;
}

function bestText(loop: ILoop, trans: TranslationBundle): string {
  const best = loop.best;
  if (!best || best.mean === null) {
    return trans.__('no kept attempt yet');
  }
  const spread = best.sd !== null && best.sd !== undefined ? ` ± ${formatValue(best.sd)}` : '';
  return best.commit
    ? trans.__('best %1 (attempt %2 at %3)', formatValue(best.mean) + spread, best.attempt, best.commit.slice(0, 7))
    : trans.__('best %1 (attempt %2)', formatValue(best.mean) + spread, best.attempt);
}

function AttemptItem(props: { tag: string; a: ILoopAttempt; onOpen: (tag: string, n: number) => void }) {
  const { a } = props;
  const trans = useTrans();
  const label = `#${a.attempt}`;
  return (
    <li className="jp-mlexp-loop-attempt" data-attempt={a.attempt} title={a.description}>
      {a.has_patch ? (
        <button
          className="jp-mlexp-link"
          aria-label={trans.__('Show the diff of attempt %1: %2', a.attempt, a.description)}
          onClick={() => props.onOpen(props.tag, a.attempt)}
        >
          {label}
        </button>
      ) : (
        <span>{label}</span>
      )}
      <span className={`jp-mlexp-loop-${a.status}`}>{a.status}</span>
      <span className="jp-mlexp-num">{metricText(a)}</span>
      <span className="jp-mlexp-muted jp-mlexp-loop-reason">{a.reason}</span>
    </li>
  );
}

function LoopSummary({ loop, onOpenAttempt }: { loop: ILoop; onOpenAttempt: (tag: string, n: number) => void }) {
  const trans = useTrans();
  const counts = loop.counts ?? {};
  const latest = (loop.attempts_list ?? []).slice(-SIDEBAR_ATTEMPTS).reverse();
  return (
    <div className="jp-mlexp-loop" data-loop={loop.tag}>
      <div className="jp-mlexp-loop-head">
        <code>{loop.tag}</code>{' '}
        {loop.problem ? (
          <span className="jp-mlexp-warning">{loop.problem}</span>
        ) : (
          <span className="jp-mlexp-loop-counts">
            {[
              trans.__('%1 keep', counts['keep'] ?? 0),
              trans.__('%1 discard', counts['discard'] ?? 0),
              trans.__('%1 crash', counts['crash'] ?? 0)
            ].join(' · ')}
          </span>
        )}
      </div>
      {!loop.problem && (
        <>
          <div className="jp-mlexp-loop-best jp-mlexp-muted">
            {loop.metric}: {bestText(loop, trans)}
          </div>
          <ol className="jp-mlexp-loop-attempts" aria-label={trans.__('Latest attempts of loop %1', loop.tag)}>
            {latest.map(a => (
              <AttemptItem key={a.attempt} tag={loop.tag} a={a} onOpen={onOpenAttempt} />
            ))}
          </ol>
        </>
      )}
    </div>
  );
}

/** The sidebar's compact view of the keep/discard loops; nothing when the experiment has none. */
export function SidebarLoops(props: ISidebarLoopsProps): JSX.Element | null {
  const trans = useTrans();
  const loops = props.loops?.loops ?? [];
  if (loops.length === 0) {
    return null;
  }
  return (
    <section className="jp-mlexp-section jp-mlexp-sidebar-loops" aria-label={trans.__('Loops')}>
      <h3>{trans.__('Loops')}</h3>
      {loops.map(loop => (
        <LoopSummary key={loop.tag} loop={loop} onOpenAttempt={props.onOpenAttempt} />
      ))}
      {props.patch && <AttemptPatch patch={props.patch} onClose={props.onClosePatch} />}
    </section>
  );
}
