import * as React from 'react';

import { formatValue } from '../format';
import { IRun, IRunList } from '../tokens';
import { useTrans } from '../trans';
import { WindowedList } from './WindowedList';

export const RUN_ROW_HEIGHT = 26;

export interface IRunsTableProps {
  runs: IRunList;
  busy: boolean;
  onIgnore: (run: IRun) => void;
  onUnignore: (run: IRun) => void;
  onOpenRuns?: (runId?: string) => void;
}

/** Generated ids (`20261122-024620-a1b2c3`) differ at the end: keep the end when space is short. */
export function shortRunId(runId: string, max = 14): string {
  return runId.length <= max ? runId : `…${runId.slice(runId.length - max + 1)}`;
}

function RunRow(props: {
  run: IRun;
  busy: boolean;
  onIgnore: (run: IRun) => void;
  onUnignore: (run: IRun) => void;
  onOpenRuns?: (runId?: string) => void;
}) {
  const { run } = props;
  const trans = useTrans();
  return (
    <div
      className={`jp-mlexp-run ${run.ignored ? 'jp-mlexp-run-ignored' : ''}`}
      data-run-id={run.run_id}
      title={[
        run.run_id,
        run.config && trans.__('configuration: %1', run.config),
        run.ignored_reason && trans.__('ignored: %1', run.ignored_reason)
      ]
        .filter(Boolean)
        .join('\n')}
    >
      {props.onOpenRuns ? (
        <button
          className="jp-mlexp-link jp-mlexp-run-id"
          aria-label={trans.__('Open run %1 in the runs table', run.run_id)}
          onClick={() => props.onOpenRuns?.(run.run_id)}
        >
          <code>{shortRunId(run.run_id)}</code>
        </button>
      ) : (
        <code className="jp-mlexp-run-id">{shortRunId(run.run_id)}</code>
      )}
      <span className={`jp-mlexp-status jp-mlexp-status-${run.status}`}>{run.status}</span>
      <span className="jp-mlexp-run-value">{formatValue(run.primary_value)}</span>
      {run.ignored ? (
        <button className="jp-mlexp-button jp-mlexp-small" disabled={props.busy} onClick={() => props.onUnignore(run)}>
          {trans.__('Count')}
        </button>
      ) : (
        <button className="jp-mlexp-button jp-mlexp-small" disabled={props.busy} onClick={() => props.onIgnore(run)}>
          {trans.__('Ignore')}
        </button>
      )}
    </div>
  );
}

function RunGroup(props: IRunsTableProps & { mode: string; title: string }): JSX.Element {
  // Newest first: the run just finished is the one a researcher looks for.
  const runs = props.runs.runs.filter(r => r.mode === props.mode).reverse();
  const trans = useTrans();
  return (
    <div className={`jp-mlexp-run-group jp-mlexp-runs-${props.mode}`}>
      <h4>
        {props.title} <span className="jp-mlexp-muted">({runs.length})</span>
      </h4>
      {runs.length === 0 ? (
        <p className="jp-mlexp-muted">
          {props.mode === 'full' ? trans.__('No full runs yet.') : trans.__('No quick runs yet.')}
        </p>
      ) : (
        <>
          <div className="jp-mlexp-run jp-mlexp-run-header" role="row">
            <span>{trans.__('run')}</span>
            <span>{trans.__('status')}</span>
            <span>{props.runs.primary_metric ?? trans.__('primary')}</span>
            <span />
          </div>
          <WindowedList
            items={runs}
            rowHeight={RUN_ROW_HEIGHT}
            maxHeight={RUN_ROW_HEIGHT * 10}
            itemKey={r => r.run_id}
            renderRow={r => (
              <RunRow
                run={r}
                busy={props.busy}
                onIgnore={props.onIgnore}
                onUnignore={props.onUnignore}
                onOpenRuns={props.onOpenRuns}
              />
            )}
          />
        </>
      )}
    </div>
  );
}

/** Quick and full runs apart, each with status, primary metric and an ignore / count-again action. */
export function RunsTable(props: IRunsTableProps): JSX.Element {
  const trans = useTrans();
  return (
    <section className="jp-mlexp-section jp-mlexp-runs" aria-label={trans.__('Runs')}>
      <div className="jp-mlexp-row">
        <h3>{trans.__('Runs')}</h3>
        {props.onOpenRuns && (
          <button className="jp-mlexp-button jp-mlexp-small" onClick={() => props.onOpenRuns?.()}>
            {trans.__('Open runs table')}
          </button>
        )}
      </div>
      <RunGroup {...props} mode="full" title={trans.__('Full runs')} />
      <RunGroup {...props} mode="quick" title={trans.__('Quick runs')} />
    </section>
  );
}
