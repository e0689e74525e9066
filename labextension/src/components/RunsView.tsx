import * as React from 'react';

import { IRunsViewState } from '../runsModel';
import {
  cellText,
  cellValue,
  differingParams,
  filterRuns,
  formatStat,
  groupRuns,
  IRunFilter,
  meanCurve,
  sortRuns
} from '../table';
import { IGroupsAnswer, IRunsTable, ITableRun } from '../tokens';
import { useTrans } from '../trans';
import { CurveChart, ICurve } from './CurveChart';
import { LoopView } from './LoopView';
import { RunDetail } from './RunDetail';
import { RunsGrid } from './RunsGrid';

export interface IRunsViewProps {
  state: IRunsViewState;
  curveRuns: string[];
  onSort: (column: string) => void;
  onFilter: (change: Partial<IRunFilter>) => void;
  onGrouped: (grouped: boolean) => void;
  onSelect: (runIds: string[], on: boolean) => void;
  onClearSelection: () => void;
  onOpenRun: (runId: string | null) => void;
  onIgnoreSelected: () => void;
  onCurveMetric: (metric: string) => void;
  onOpenPath: (path: string) => void;
  onOpenAttempt: (tag: string, n: number) => void;
  onClosePatch: () => void;
}

function Toolbar(props: IRunsViewProps & { table: IRunsTable }): JSX.Element {
  const { filter, grouped } = props.state;
  const trans = useTrans();
  const statuses = React.useMemo(() => Array.from(new Set(props.table.runs.map(r => r.status))).sort(), [props.table]);
  return (
    <div className="jp-mlexp-toolbar" role="toolbar" aria-label={trans.__('Filter the runs')}>
      <input
        className="jp-mlexp-input jp-mlexp-filter"
        type="search"
        aria-label={trans.__('Filter runs')}
        placeholder={trans.__('text or param=value')}
        value={filter.text}
        onChange={e => props.onFilter({ text: e.target.value })}
      />
      <select
        className="jp-mlexp-select"
        aria-label={trans.__('Status')}
        value={filter.status}
        onChange={e => props.onFilter({ status: e.target.value })}
      >
        <option value="">{trans.__('any status')}</option>
        {statuses.map(s => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
      </select>
      <select
        className="jp-mlexp-select"
        aria-label={trans.__('Mode')}
        value={filter.mode}
        onChange={e => props.onFilter({ mode: e.target.value })}
      >
        <option value="">{trans.__('quick and full')}</option>
        <option value="quick">{trans.__('quick')}</option>
        <option value="full">{trans.__('full')}</option>
      </select>
      <select
        className="jp-mlexp-select"
        aria-label={trans.__('Ignored runs')}
        value={filter.ignored}
        onChange={e => props.onFilter({ ignored: e.target.value as IRunFilter['ignored'] })}
      >
        <option value="all">{trans.__('counted and ignored')}</option>
        <option value="counted">{trans.__('counted only')}</option>
        <option value="ignored">{trans.__('ignored only')}</option>
      </select>
      <label className="jp-mlexp-check">
        <input type="checkbox" checked={grouped} onChange={e => props.onGrouped(e.target.checked)} />
        {trans.__('Group by configuration')}
      </label>
    </div>
  );
}

function SelectionBar(props: IRunsViewProps): JSX.Element | null {
  const trans = useTrans();
  const n = props.state.selection.length;
  if (n === 0) {
    return null;
  }
  return (
    <div className="jp-mlexp-row jp-mlexp-selection" aria-live="polite">
      <span>{trans._n('%1 run selected', '%1 runs selected', n)}</span>
      <button className="jp-mlexp-button" disabled={props.state.busy} onClick={props.onIgnoreSelected}>
        {trans.__('Ignore selected…')}
      </button>
      <button className="jp-mlexp-button" onClick={props.onClearSelection}>
        {trans.__('Clear selection')}
      </button>
    </div>
  );
}

/** The selected runs (or, grouped, their configurations) side by side: parameters, differences marked, metrics. */
export function CompareTable(props: {
  table: IRunsTable;
  runs: ITableRun[];
  grouped: boolean;
  groups?: IGroupsAnswer | null;
}): JSX.Element {
  const { table, runs } = props;
  const trans = useTrans();
  const groups = props.grouped ? groupRuns(runs, table.metrics, props.groups ?? null) : null;
  const columns = groups
    ? groups.map(g => ({
        key: `${g.mode} ${g.config}`,
        label: `${g.mode} ${g.config} (${g.runs.length})`,
        run: g.runs[0]
      }))
    : runs.map(r => ({ key: r.run_id, label: r.run_id, run: r }));
  const differ = differingParams(
    columns.map(c => c.run),
    table.params
  );
  const metricText = (i: number, m: string) =>
    groups ? formatStat(groups[i].metrics[m]) : cellText(columns[i].run.metrics[m]);
  return (
    <section className="jp-mlexp-card jp-mlexp-compare" aria-label={trans.__('Compare runs')}>
      <h3>{groups ? trans.__('Compare configurations (mean ± spread over counted runs)') : trans.__('Compare')}</h3>
      <div className="jp-mlexp-scroll-x">
        <table className="jp-mlexp-compare-table">
          <thead>
            <tr>
              <th />
              {columns.map(c => (
                <th key={c.key} scope="col">
                  <code>{c.label}</code>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {table.params.map(p => (
              <tr key={`p${p}`} className={differ.has(p) ? 'jp-mlexp-differs' : ''}>
                <th scope="row">
                  {p}
                  {differ.has(p) ? ' ≠' : ''}
                </th>
                {columns.map(c => (
                  <td key={c.key}>{cellText(cellValue(c.run, `param:${p}`))}</td>
                ))}
              </tr>
            ))}
            {table.metrics.map(m => (
              <tr key={`m${m}`}>
                <th scope="row">{m}</th>
                {columns.map((c, i) => (
                  <td key={c.key} className="jp-mlexp-num">
                    {metricText(i, m)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** One line per run, or per configuration (mean ± spread over its runs) when grouped. */
export function curvesOf(state: IRunsViewState, runIds: string[]): ICurve[] {
  const metric = state.curveMetric;
  const table = state.table;
  if (!metric || !table) {
    return [];
  }
  const byId = new Map(table.runs.map(r => [r.run_id, r]));
  const pointsOf = (id: string) => state.curves[id]?.series[metric] ?? [];
  if (!state.grouped) {
    return runIds
      .filter(id => pointsOf(id).length > 0)
      .map(id => {
        const total = state.curves[id]?.total?.[metric];
        if (total === undefined) {
          return { label: id, points: pointsOf(id) };
        }
        return state.curves[id]?.approximate
          ? { label: id, points: pointsOf(id), total, approximate: true }
          : { label: id, points: pointsOf(id), total };
      });
  }
  const groups = new Map<string, string[]>();
  for (const id of runIds) {
    const run = byId.get(id);
    const key = run ? `${run.mode} ${run.config}` : id;
    groups.set(key, [...(groups.get(key) ?? []), id]);
  }
  return Array.from(groups.entries())
    .map(([label, ids]) => {
      const band = meanCurve(ids.map(pointsOf).filter(p => p.length > 0));
      return { label: `${label} (${ids.length})`, points: band.map(b => [b.step, b.mean] as [number, number]), band };
    })
    .filter(c => c.points.length > 0);
}

function Curves(props: IRunsViewProps & { table: IRunsTable }): JSX.Element | null {
  const { state } = props;
  const trans = useTrans();
  if (props.curveRuns.length === 0) {
    return null;
  }
  // a first look at a long file (the server's windows): a metric logged rarely may be missing from it
  const looking = props.curveRuns.filter(id => state.curves[id]?.approximate);
  return (
    <section className="jp-mlexp-card jp-mlexp-curves" aria-label={trans.__('Curves')}>
      <div className="jp-mlexp-row">
        <h3>{trans.__('Curves')}</h3>
        <select
          className="jp-mlexp-select"
          aria-label={trans.__('Metric to plot')}
          value={state.curveMetric ?? ''}
          onChange={e => props.onCurveMetric(e.target.value)}
        >
          {props.table.metrics.map(m => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
      </div>
      <CurveChart metric={state.curveMetric ?? ''} curves={curvesOf(state, props.curveRuns)} />
      {looking.length > 0 && (
        <p className="jp-mlexp-muted jp-mlexp-first-look">
          {trans.__('%1: a first look at a long file, read in parts; the exact curve follows', looking.join(', '))}
        </p>
      )}
    </section>
  );
}

function ViewHeader(props: { state: IRunsViewState; shown: number }): JSX.Element {
  const { state } = props;
  const trans = useTrans();
  return (
    <>
      <header className="jp-mlexp-title">
        <h2>
          {trans.__('Runs of')} <code>{state.experiment}</code>
        </h2>
        {state.table && (
          <span className="jp-mlexp-muted">{trans.__('%1 of %2 shown', props.shown, state.table.runs.length)}</span>
        )}
      </header>
      {state.error && (
        <div className="jp-mlexp-banner jp-mlexp-banner-error" role="alert">
          {state.error}
        </div>
      )}
      {!state.table && !state.error && <p className="jp-mlexp-muted">{trans.__('Loading…')}</p>}
    </>
  );
}

/** Under the grid: the open run's page, the curves, and the ticked runs compared. */
function Lower(props: IRunsViewProps & { table: IRunsTable; ticked: ITableRun[] }): JSX.Element {
  const { state } = props;
  return (
    <div className="jp-mlexp-runs-lower">
      {state.openRun && (
        <RunDetail
          runId={state.openRun}
          detail={state.detail}
          onOpenPath={props.onOpenPath}
          onClose={() => props.onOpenRun(null)}
        />
      )}
      <Curves {...props} table={props.table} />
      {props.ticked.length >= 2 && (
        <CompareTable table={props.table} runs={props.ticked} grouped={state.grouped} groups={state.groups} />
      )}
    </div>
  );
}

/** The runs table panel: filters, the table, the open run, curves and the comparison of ticked runs. */
export function RunsView(props: IRunsViewProps): JSX.Element {
  const { state } = props;
  const trans = useTrans();
  const table = state.table;
  // Memoised: a poll that changed nothing, a tick or a curve's new points do not re-sort 10,000 runs.
  const shown = React.useMemo(
    () => (table ? sortRuns(filterRuns(table.runs, state.filter), state.sort) : []),
    [table, state.filter, state.sort]
  );
  const ticked = React.useMemo(() => {
    const chosen = new Set(state.selection);
    return table ? table.runs.filter(r => chosen.has(r.run_id)) : [];
  }, [table, state.selection]);
  if (!state.experiment) {
    return (
      <p className="jp-mlexp-muted jp-mlexp-empty">{trans.__('Pick an experiment in the Experiments sidebar.')}</p>
    );
  }
  return (
    <div className="jp-mlexp-panel jp-mlexp-runs-view">
      <ViewHeader state={state} shown={shown.length} />
      {table && (
        <>
          <Toolbar {...props} table={table} />
          <SelectionBar {...props} />
          <div className="jp-mlexp-scroll-x">
            <RunsGrid
              table={table}
              runs={shown}
              grouped={state.grouped}
              sort={state.sort}
              selection={state.selection}
              openRun={state.openRun}
              onSort={props.onSort}
              onSelect={props.onSelect}
              onOpen={props.onOpenRun}
              live={state.curves}
              hidden={state.hiddenColumns}
              groups={state.groups}
            />
          </div>
          <Lower {...props} table={table} ticked={ticked} />
          <LoopView
            loops={state.loops}
            patch={state.patch}
            onOpenAttempt={props.onOpenAttempt}
            onClosePatch={props.onClosePatch}
          />
        </>
      )}
    </div>
  );
}
