import * as React from 'react';

import { formatValue } from '../format';
import { IAttemptPatch, ILoop, ILoopAttempt } from '../tokens';
import { useTrans } from '../trans';

export interface ILoopViewProps {
  loops: ILoop[];
  patch: IAttemptPatch | null;
  onOpenAttempt: (tag: string, n: number) => void;
  onClosePatch: () => void;
}

/** An attempt's metric: the mean, ± the spread over its seeds when it ran several. */
export function metricText(a: Pick<ILoopAttempt, 'metric' | 'sd' | 'seeds'>): string {
  if (a.metric === null) {
    return '–';
  }
  return a.sd !== null && a.seeds.length > 1
    ? `${formatValue(a.metric)} ± ${formatValue(a.sd)}`
    : formatValue(a.metric);
}

/** A diff as text, each line coloured by its first character. */
export function Diff({ text }: { text: string }): JSX.Element {
  return (
    <pre className="jp-mlexp-diff">
      {text.split('\n').map((line, i) => {
        const kind = /^(\+\+\+|---) /.test(line)
          ? 'file'
          : line.startsWith('+')
            ? 'add'
            : line.startsWith('-')
              ? 'del'
              : line.startsWith('@@')
                ? 'hunk'
                : '';
        return (
          <span key={i} className={kind ? `jp-mlexp-diff-${kind}` : undefined}>
            {line}
            {'\n'}
          </span>
        );
      })}
    </pre>
  );
}

/** One attempt's diff with its title and a close button: the runs panel's and the sidebar's. */
export function AttemptPatch({ patch, onClose }: { patch: IAttemptPatch; onClose: () => void }): JSX.Element {
  const trans = useTrans();
  return (
    <div className="jp-mlexp-patch" aria-label={trans.__('Diff of attempt %1', patch.attempt)}>
      <div className="jp-mlexp-row">
        <h4>
          {trans.__('Attempt %1 of', patch.attempt)} <code>{patch.tag}</code>
        </h4>
        <button className="jp-mlexp-button jp-mlexp-small" onClick={onClose}>
          {trans.__('Close diff')}
        </button>
      </div>
      <Diff text={patch.patch} />
      {patch.truncated && <p className="jp-mlexp-muted">{trans.__('(cut: the diff is longer)')}</p>}
    </div>
  );
}

function LoopTable({ loop, props }: { loop: ILoop; props: ILoopViewProps }): JSX.Element {
  const trans = useTrans();
  const rows = loop.attempts_list ?? [];
  return (
    <table className="jp-mlexp-compare-table jp-mlexp-loop-table">
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">{trans.__('status')}</th>
          <th scope="col">{trans.__('change')}</th>
          <th scope="col">{loop.metric ?? trans.__('metric')}</th>
          <th scope="col">{trans.__('decision')}</th>
          <th scope="col">{trans.__('best so far')}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(a => (
          <tr key={a.attempt} data-attempt={a.attempt} className={`jp-mlexp-attempt-${a.status}`}>
            <td className="jp-mlexp-num">{a.attempt}</td>
            <td>
              <span className={`jp-mlexp-loop-${a.status}`}>{a.status}</span>
            </td>
            <td>
              {a.has_patch ? (
                <button
                  className="jp-mlexp-link"
                  title={trans.__('Show the diff of attempt %1', a.attempt)}
                  onClick={() => props.onOpenAttempt(loop.tag, a.attempt)}
                >
                  {a.description || trans.__('attempt %1', a.attempt)}
                </button>
              ) : (
                a.description
              )}
            </td>
            <td className="jp-mlexp-num">{metricText(a)}</td>
            <td className="jp-mlexp-muted">{a.reason}</td>
            <td className="jp-mlexp-num">{formatValue(a.running_best)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The keep/discard loops: attempts in order with status, metric and decision, the running best, a diff on click. */
export function LoopView(props: ILoopViewProps): JSX.Element | null {
  const trans = useTrans();
  if (props.loops.length === 0) {
    return null;
  }
  return (
    <section className="jp-mlexp-card jp-mlexp-loops" aria-label={trans.__('Loops')}>
      <h3>{trans.__('Loops')}</h3>
      {props.loops.map(loop => (
        <div key={loop.tag} className="jp-mlexp-loop" data-loop={loop.tag}>
          <h4>
            <code>{loop.tag}</code>{' '}
            {loop.problem ? (
              <span className="jp-mlexp-warning">{loop.problem}</span>
            ) : (
              <span className="jp-mlexp-muted">
                {loop.metric} ({loop.direction}), {trans._n('%1 attempt', '%1 attempts', loop.attempts ?? 0)}
                {loop.best ? trans.__(', best: attempt %1 at %2', loop.best.attempt, formatValue(loop.best.mean)) : ''}
              </span>
            )}
          </h4>
          {!loop.problem && <LoopTable loop={loop} props={props} />}
        </div>
      ))}
      {props.patch && <AttemptPatch patch={props.patch} onClose={props.onClosePatch} />}
    </section>
  );
}
