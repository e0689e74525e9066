import * as React from 'react';

import { formatValue } from '../format';
import { IExperimentDetail } from '../tokens';

/** The current hypothesis: claim, success criterion, version and, when runs tell, the verdict. */
export function HypothesisCard({ detail }: { detail: IExperimentDetail }): JSX.Element {
  const h = detail.hypothesis;
  if (!h) {
    return (
      <section className="jp-mlexp-card jp-mlexp-hypothesis">
        <p>
          No hypothesis registered for <code>{detail.name}</code> yet: register one with a{' '}
          <code>%%hypothesis {detail.name}</code> cell.
        </p>
      </section>
    );
  }
  const v = detail.verdict;
  const verdictClass = v?.verdict ? `jp-mlexp-verdict-${v.verdict.replace(/\s+/g, '-')}` : '';
  return (
    <section className="jp-mlexp-card jp-mlexp-hypothesis" aria-label="Hypothesis">
      <div className="jp-mlexp-card-head">
        <span className="jp-mlexp-version" title={h.update_reason ?? ''}>
          v{h.version}
        </span>
        <span className="jp-mlexp-stage">{h.stage}</span>
        {detail.history.length > 1 && (
          <span className="jp-mlexp-muted" title={detail.history.map(x => `v${x.version}: ${x.statement}`).join('\n')}>
            {detail.history.length} versions
          </span>
        )}
      </div>
      <p className="jp-mlexp-statement">{h.statement}</p>
      <dl className="jp-mlexp-criteria">
        <dt>Success</dt>
        <dd>
          <code>{h.success}</code>
        </dd>
        {h.failure && (
          <>
            <dt>Failure</dt>
            <dd>
              <code>{h.failure}</code>
            </dd>
          </>
        )}
        <dt>Metrics</dt>
        <dd>{h.metrics.join(', ')}</dd>
        {v && v.verdict && (
          <>
            <dt>Verdict</dt>
            <dd>
              <span className={`jp-mlexp-verdict ${verdictClass}`}>{v.verdict}</span>{' '}
              <span className="jp-mlexp-muted">
                {v.metric} = {formatValue(v.value)} in {v.mode} run <code>{v.run_id}</code>
              </span>
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}
