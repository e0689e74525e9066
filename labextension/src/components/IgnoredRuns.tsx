import * as React from 'react';

import { IIgnoredList, IIgnoredRun } from '../tokens';
import { useTrans } from '../trans';

export interface IIgnoredRunsProps {
  ignored: IIgnoredList;
  busy: boolean;
  onUnignore: (run: IIgnoredRun) => void;
}

/** Runs left out of every statistic, each with the reason given. */
export function IgnoredRuns(props: IIgnoredRunsProps): JSX.Element {
  const { ignored } = props;
  const trans = useTrans();
  return (
    <section className="jp-mlexp-section jp-mlexp-ignored" aria-label={trans.__('Ignored runs')}>
      <h3>
        {trans.__('Ignored runs')} <span className="jp-mlexp-muted">({ignored.ignored.length})</span>
      </h3>
      {ignored.ignored.length === 0 ? (
        <p className="jp-mlexp-muted">{trans.__('No run is ignored.')}</p>
      ) : (
        <ul className="jp-mlexp-ignored-list">
          {ignored.ignored.map(i => (
            <li key={i.run_id} className="jp-mlexp-ignored-run" data-run-id={i.run_id}>
              <div className="jp-mlexp-row">
                <code>{i.run_id}</code>
                {i.when && <span className="jp-mlexp-muted">{i.when.replace('T', ' ').slice(0, 16)}</span>}
                {i.source === 'IGNORED_RUNS.md' && (
                  <button
                    className="jp-mlexp-button jp-mlexp-small"
                    disabled={props.busy}
                    onClick={() => props.onUnignore(i)}
                  >
                    {trans.__('Count again')}
                  </button>
                )}
              </div>
              <div className="jp-mlexp-reason">{i.reason}</div>
            </li>
          ))}
        </ul>
      )}
      {ignored.warnings.length > 0 && (
        <details className="jp-mlexp-warnings">
          <summary>
            {trans._n('%1 warning about IGNORED_RUNS.md', '%1 warnings about IGNORED_RUNS.md', ignored.warnings.length)}
          </summary>
          <ul>
            {ignored.warnings.slice(0, 20).map((w, i) => (
              <li key={i}>{w}</li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
