import * as React from 'react';

import { formatValue } from '../format';
import { IAttemptPatch, ILoop, ILoopAttempt } from '../tokens';

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
  return (
    <div className="jp-mlexp-patch" aria-label={`Diff of attempt ${patch.attempt}`}>
      <div className="jp-mlexp-row">
        <h4>
          Attempt {patch.attempt} of <code>{patch.tag}</code>
        </h4>
        <button className="jp-mlexp-button jp-mlexp-small" onClick={onClose}>
          Close diff
        </button>
      </div>
      <Diff text={patch.patch} />
      {patch.truncated && <p className="jp-mlexp-muted">(cut: the diff is longer)</p>}
    </div>
  );
}

function LoopTable({ loop, props }: { loop: ILoop; props: ILoopViewProps }): JSX.Element {
  const rows = loop.attempts_list ?? [];
  return (
    <table className="jp-mlexp-compare-table jp-mlexp-loop-table">
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">status</th>
          <th scope="col">change</th>
          <th scope="col">{loop.metric ?? 'metric'}</th>
          <th scope="col">decision</th>
          <th scope="col">best so far</th>
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
                  title={`Show the diff of attempt ${a.attempt}`}
                  onClick={() => props.onOpenAttempt(loop.tag, a.attempt)}
                >
                  {a.description || `attempt ${a.attempt}`}
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
  if (props.loops.length === 0) {
    return null;
  }
  return (
    <section className="jp-mlexp-card jp-mlexp-loops" aria-label="Loops">
      <h3>Loops</h3>
      {props.loops.map(loop => (
        <div key={loop.tag} className="jp-mlexp-loop" data-loop={loop.tag}>
          <h4>
            <code>{loop.tag}</code>{' '}
            {loop.problem ? (
              <span className="jp-mlexp-warning">{loop.problem}</span>
            ) : (
              <span className="jp-mlexp-muted">
                {loop.metric} ({loop.direction}), {loop.attempts} attempts
                {loop.best ? `, best: attempt ${loop.best.attempt} at ${formatValue(loop.best.mean)}` : ''}
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
