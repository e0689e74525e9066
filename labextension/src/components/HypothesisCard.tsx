import * as React from 'react';

import { formatValue } from '../format';
import { ICoreVerdict, ICriterionCheck, IExperimentDetail, IForest } from '../tokens';
import { CourseFields } from './CourseFields';
import { useTrans } from '../trans';
import { ForestPlot } from './ForestPlot';

export interface IHypothesisCardProps {
  detail: IExperimentDetail;
  busy?: boolean;
  /** Build report.ipynb and open it; absent, no button. */
  onBuildReport?: () => void;
}

/** Only the experiment's verdict (`core.verdict.judge_experiment`) is shown as one; anything else is not. */
export function isCoreVerdict(v: unknown): v is ICoreVerdict {
  return !!v && typeof v === 'object' && typeof (v as ICoreVerdict).decision === 'string';
}

function verdictClass(word: string): string {
  return `jp-mlexp-verdict jp-mlexp-verdict-${word.replace(/\s+/g, '-')}`;
}

/**
 * The one verdict engine's answer: its headline (the same line on every surface) and the forest, with the
 * reasoning (reason, each configuration's interval, what would decide it) one click away; flags stay in view.
 */
function CoreVerdict({
  v,
  headline,
  forest
}: {
  v: ICoreVerdict;
  headline?: string | null;
  forest?: IForest | null;
}): JSX.Element {
  const trans = useTrans();
  const intervals = Object.entries(v.intervals ?? {});
  const rest = headline ? headline.split(' · ').slice(1).join(' · ') : '';
  return (
    <div className="jp-mlexp-verdict-block" aria-label={trans.__('Verdict')}>
      <div className="jp-mlexp-headline" title={headline ?? v.reason}>
        <span className={verdictClass(v.decision)}>{v.decision}</span>{' '}
        {rest ? (
          <span className="jp-mlexp-headline-rest">{rest}</span>
        ) : (
          v.mode && <span className="jp-mlexp-muted">{trans.__('over the %1 runs', v.mode)}</span>
        )}
      </div>
      {forest && <ForestPlot forest={forest} />}
      <details className="jp-mlexp-verdict-why">
        <summary>{v.mode ? trans.__('Why (the %1 runs)', v.mode) : trans.__('Why')}</summary>
        <div className="jp-mlexp-verdict-reason">{v.reason}</div>
        {intervals.length > 0 && (
          <ul className="jp-mlexp-intervals">
            {intervals.map(([label, text]) => (
              <li key={label}>
                <span>{label}</span>: <span className="jp-mlexp-muted">{text}</span>
              </li>
            ))}
          </ul>
        )}
        {v.would_decide && <div className="jp-mlexp-muted">{v.would_decide}</div>}
      </details>
      {(v.flags ?? []).map(flag => (
        <div key={flag} className="jp-mlexp-warning">
          {flag}
        </div>
      ))}
    </div>
  );
}

/** One run's check against the success criterion: labelled as such, never as the verdict. */
function CriterionCheck({ c }: { c: ICriterionCheck }): JSX.Element {
  const trans = useTrans();
  return (
    <>
      <span className="jp-mlexp-muted">{trans.__('criterion check')} </span>
      <span className={`jp-mlexp-crit jp-mlexp-crit-${c.result.replace(/\s+/g, '-')}`}>{c.result}</span>{' '}
      <span className="jp-mlexp-muted">
        {trans.__('%1 = %2 in %3 run', c.metric, formatValue(c.value), c.mode)} <code>{c.run_id}</code>
      </span>
    </>
  );
}

function CardHead({ detail, busy, onBuildReport }: IHypothesisCardProps): JSX.Element {
  const h = detail.hypothesis!;
  const trans = useTrans();
  return (
    <div className="jp-mlexp-card-head">
      <span className="jp-mlexp-version" title={h.update_reason ?? ''}>
        v{h.version}
      </span>
      <span className="jp-mlexp-stage">{h.stage}</span>
      {detail.history.length > 1 && (
        <span className="jp-mlexp-muted" title={detail.history.map(x => `v${x.version}: ${x.statement}`).join('\n')}>
          {trans._n('%1 version', '%1 versions', detail.history.length)}
        </span>
      )}
      {onBuildReport && (
        <button
          className="jp-mlexp-button jp-mlexp-small jp-mlexp-report-button"
          disabled={busy}
          title={trans.__('Judge the runs and write report.ipynb, then open it')}
          onClick={onBuildReport}
        >
          {trans.__('Build report')}
        </button>
      )}
    </div>
  );
}

/** A `<dt>`/`<dd>` pair of the card's list. */
function Fact({ term, children, className }: { term: string; children: React.ReactNode; className?: string }) {
  return (
    <>
      <dt>{term}</dt>
      <dd className={className}>{children}</dd>
    </>
  );
}

/** The current hypothesis: claim, success criterion, version and, when runs tell, the verdict. */
export function HypothesisCard(props: IHypothesisCardProps): JSX.Element {
  const { detail } = props;
  const trans = useTrans();
  const h = detail.hypothesis;
  if (!h) {
    return (
      <section className="jp-mlexp-card jp-mlexp-hypothesis">
        <p>
          {trans.__('No hypothesis registered for')} <code>{detail.name}</code> {trans.__('yet: register one with a')}{' '}
          <code>%%hypothesis {detail.name}</code> {trans.__('cell.')}
        </p>
        {detail.course && <CourseFields course={detail.course} />}
      </section>
    );
  }
  // A server that sent something else under `verdict` (an old per-run check) shows no verdict at all.
  const v = isCoreVerdict(detail.verdict) ? detail.verdict : null;
  return (
    <section className="jp-mlexp-card jp-mlexp-hypothesis" aria-label={trans.__('Hypothesis')}>
      <CardHead {...props} />
      <p className="jp-mlexp-statement">{h.statement}</p>
      <dl className="jp-mlexp-criteria">
        <Fact term={trans.__('Success')}>
          <code>{h.success}</code>
        </Fact>
        {h.failure && (
          <Fact term={trans.__('Failure')}>
            <code>{h.failure}</code>
          </Fact>
        )}
        <Fact term={trans.__('Metrics')}>{h.metrics.join(', ')}</Fact>
        {detail.criterion_check && (
          <Fact term={trans.__('Latest run')} className="jp-mlexp-criterion-check">
            <CriterionCheck c={detail.criterion_check} />
          </Fact>
        )}
      </dl>
      {detail.course && <CourseFields course={detail.course} />}
      {v && <CoreVerdict v={v} headline={detail.headline} forest={detail.forest} />}
    </section>
  );
}
