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

/** Text with `code` spans (the server's sentences quote commands and labels in backticks) as `<code>`. */
function WithCode({ text }: { text: string }): JSX.Element {
  return <>{text.split('`').map((part, i) => (i % 2 === 1 ? <code key={i}>{part}</code> : part))}</>;
}

/**
 * The headline's first part is the decision, with the server's qualifier when there is one
 * (`INCONCLUSIVE (quick runs only)`): the decision goes in the badge, the qualifier beside it.
 */
export function splitHeadline(headline: string, decision: string): { qualifier: string; rest: string } {
  const [first, ...others] = headline.split(' · ');
  const qualified = first.toLowerCase().startsWith(decision.toLowerCase());
  const qualifier = qualified
    ? first
        .slice(decision.length)
        .trim()
        .replace(/^\((.*)\)$/, '$1')
    : '';
  return { qualifier, rest: others.join(' · ') };
}

/**
 * Quick runs alone: what they suggest, as a secondary line under the (inconclusive) decision, outlined so it
 * never reads as the verdict's badge, and what would decide it (full runs on fresh seeds), both in view.
 */
function QuickSuggests({
  q,
  wouldDecide
}: {
  q: NonNullable<ICoreVerdict['quick_suggests']>;
  wouldDecide?: string | null;
}) {
  const trans = useTrans();
  return (
    <>
      <div className="jp-mlexp-quick-suggests" title={q.reason}>
        <span className="jp-mlexp-quick-label">{trans.__('Quick runs suggest:')}</span>{' '}
        <span className={`jp-mlexp-suggests jp-mlexp-suggests-${q.decision.replace(/\s+/g, '-')}`}>{q.decision}</span>
        {' — '}
        {trans.__('scaled-down runs, not the verdict')}
      </div>
      {wouldDecide && (
        <div className="jp-mlexp-quick-decide">
          <span className="jp-mlexp-quick-label">{trans.__('To decide:')}</span> <WithCode text={wouldDecide} />
        </div>
      )}
    </>
  );
}

/**
 * The one verdict engine's answer: its headline (the same line on every surface) and the forest, with the
 * reasoning (reason, each configuration's interval, what would decide it) one click away; flags stay in view.
 * On quick runs alone, what they suggest and what would decide it stay in view as well.
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
  const { qualifier, rest } = headline ? splitHeadline(headline, v.decision) : { qualifier: '', rest: '' };
  const quick = v.quick_suggests ?? null;
  return (
    <div className="jp-mlexp-verdict-block" aria-label={trans.__('Verdict')}>
      <div className="jp-mlexp-headline" title={headline ?? v.reason}>
        <span className={verdictClass(v.decision)}>{v.decision}</span>{' '}
        {qualifier && <span className="jp-mlexp-verdict-qualifier">{qualifier}</span>}
        {qualifier && rest && <span className="jp-mlexp-muted"> · </span>}
        {rest ? (
          <span className="jp-mlexp-headline-rest">{rest}</span>
        ) : (
          !qualifier && v.mode && <span className="jp-mlexp-muted">{trans.__('over the %1 runs', v.mode)}</span>
        )}
      </div>
      {quick && <QuickSuggests q={quick} wouldDecide={v.would_decide} />}
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
        {v.would_decide && !quick && <div className="jp-mlexp-muted">{v.would_decide}</div>}
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
