import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { formatDuration, formatTime } from '../format';
import {
  cellText,
  cellValue,
  columnsOf,
  visibleColumns,
  compareValues,
  formatStat,
  IColumn,
  IConfigGroup,
  ICurveData,
  ISort,
  groupRuns
} from '../table';
import { IGroupsAnswer, IRunsTable, ITableRun } from '../tokens';
import { english, useTrans } from '../trans';
import { WindowedList } from './WindowedList';

export const GRID_ROW_HEIGHT = 28;
const SELECT_WIDTH = 32;

export interface IRunsGridProps {
  table: IRunsTable;
  /** Already filtered and sorted. */
  runs: ITableRun[];
  grouped: boolean;
  sort: ISort | null;
  selection: string[];
  openRun: string | null;
  onSort: (column: string) => void;
  onSelect: (runIds: string[], on: boolean) => void;
  onOpen: (runId: string) => void;
  /** What the curves read of running runs: their latest points, shown live in the metric columns. */
  live?: { [runId: string]: ICurveData };
  /** Column names the user's settings hide (`hiddenColumns`). */
  hidden?: readonly string[];
  /** The server's groups (counts and mean ± sd by the verdict's counting), when grouped. */
  groups?: IGroupsAnswer | null;
}

function template(columns: IColumn[]): string {
  return [`${SELECT_WIDTH}px`, ...columns.map(c => `${c.width}px`)].join(' ');
}

/** A column's heading in the user's language: the fixed columns' names translated, parameters and metrics as named. */
function headerLabel(c: IColumn, trans: TranslationBundle): string {
  if (c.id.includes(':')) {
    return c.label;
  }
  const names: { [label: string]: string } = {
    run: trans.__('run'),
    configuration: trans.__('configuration'),
    status: trans.__('status'),
    mode: trans.__('mode'),
    seed: trans.__('seed'),
    stage: trans.__('stage'),
    started: trans.__('started'),
    duration: trans.__('duration')
  };
  return names[c.label] ?? c.label;
}

function Header(props: { columns: IColumn[]; sort: ISort | null; onSort: (c: string) => void }): JSX.Element {
  const trans = useTrans();
  return (
    <div
      className="jp-mlexp-grid-row jp-mlexp-grid-head"
      role="row"
      style={{ gridTemplateColumns: template(props.columns) }}
    >
      <span role="columnheader" />
      {props.columns.map(c => {
        const sorted = props.sort?.column === c.id;
        const direction = sorted ? (props.sort!.descending ? 'descending' : 'ascending') : 'none';
        return (
          <span key={c.id} role="columnheader" aria-sort={direction} className={c.numeric ? 'jp-mlexp-num' : ''}>
            <button
              className="jp-mlexp-sort"
              title={trans.__('Sort by %1', headerLabel(c, trans))}
              onClick={() => props.onSort(c.id)}
            >
              {headerLabel(c, trans)}
              {sorted ? (props.sort!.descending ? ' ▼' : ' ▲') : ''}
            </button>
          </span>
        );
      })}
    </div>
  );
}

/** A running run's latest logged value of a metric (its summary in run.json lags), with its step. */
export function liveValue(
  run: ITableRun,
  column: IColumn,
  live: IRunsGridProps['live']
): { value: number; step: number } | null {
  if (run.status !== 'running' || !column.id.startsWith('metric:')) {
    return null;
  }
  const points = live?.[run.run_id]?.series[column.id.slice(7)];
  const last = points?.[points.length - 1];
  return last ? { step: last[0], value: last[1] } : null;
}

function runCell(run: ITableRun, column: IColumn): string {
  if (column.id === 'started') {
    return formatTime(run.started, false, '–');
  }
  if (column.id === 'duration_s') {
    return formatDuration(run.duration_s);
  }
  return cellText(cellValue(run, column.id));
}

/** The keys that move the grid's one tab stop, and by how many rows. */
function stepOf(key: string, page: number): number | null {
  const steps: { [key: string]: number } = {
    ArrowDown: 1,
    ArrowUp: -1,
    PageDown: page,
    PageUp: -page,
    Home: -Infinity,
    End: Infinity
  };
  return key in steps ? steps[key] : null;
}

/** Scroll the windowed list so row `index` is drawn, then focus it (one roving tab stop for the whole grid). */
export function focusRow(scroller: Element | null, index: number): void {
  if (!scroller) {
    return;
  }
  const top = index * GRID_ROW_HEIGHT;
  if (top < scroller.scrollTop) {
    scroller.scrollTop = top;
  } else if (top + GRID_ROW_HEIGHT > scroller.scrollTop + scroller.clientHeight) {
    scroller.scrollTop = top + GRID_ROW_HEIGHT - scroller.clientHeight;
  }
  const focus = () => scroller.querySelector<HTMLElement>(`[data-row-index="${index}"]`)?.focus();
  focus();
  requestAnimationFrame(focus); // after the scroll drew the row
}

/**
 * The roving tab stop survives windowing: when the focused row scrolls out of the drawn window (and is
 * unmounted), the focus parks on the scroll area instead of falling to the page; when the grid's active
 * row is drawn again while it is parked there, the row takes the focus back.
 */
function useRovingFocus(active: boolean): React.RefObject<HTMLDivElement> {
  const ref = React.useRef<HTMLDivElement>(null);
  React.useLayoutEffect(() => {
    const row = ref.current;
    const scroller = row?.closest<HTMLElement>('.jp-mlexp-windowed');
    if (active && row && scroller && document.activeElement === scroller) {
      row.focus({ preventScroll: true });
    }
    return () => {
      if (row && document.activeElement === row) {
        row.closest<HTMLElement>('.jp-mlexp-windowed')?.focus({ preventScroll: true });
      }
    };
  }, [active]);
  return ref;
}

interface IRowProps extends IRunsGridProps {
  index: number;
  columns: IColumn[];
  /** Whether this row is the grid's tab stop. */
  active: boolean;
  onFocusRow: (index: number) => void;
  onMove: (from: HTMLElement, index: number, step: number) => void;
}

/** Keys every row shares: arrows, Page Up/Down, Home/End move; Enter opens; Space ticks. */
function rowKeys(props: IRowProps, open: () => void, tick: () => void) {
  return (e: React.KeyboardEvent<HTMLElement>) => {
    const step = stepOf(e.key, 10);
    if (e.key === 'Enter') {
      open();
    } else if (e.key === ' ') {
      e.preventDefault();
      tick();
    } else if (step !== null) {
      e.preventDefault();
      props.onMove(e.currentTarget, props.index, step);
    }
  };
}

function RunRow(props: { run: ITableRun } & IRowProps): JSX.Element {
  const { run, columns } = props;
  const trans = useTrans();
  const ticked = props.selection.includes(run.run_id);
  const open = () => props.onOpen(run.run_id);
  const ref = useRovingFocus(props.active);
  const classes = ['jp-mlexp-grid-row', 'jp-mlexp-grid-run'];
  if (run.ignored) {
    classes.push('jp-mlexp-run-ignored');
  }
  if (props.openRun === run.run_id) {
    classes.push('jp-mlexp-grid-open');
  }
  return (
    <div
      ref={ref}
      className={classes.join(' ')}
      style={{ gridTemplateColumns: template(columns) }}
      data-run-id={run.run_id}
      data-row-index={props.index}
      tabIndex={props.active ? 0 : -1}
      aria-selected={props.openRun === run.run_id}
      title={run.ignored ? trans.__('ignored: %1', run.ignored_reason ?? '') : run.run_id}
      onClick={open}
      onFocus={() => props.onFocusRow(props.index)}
      onKeyDown={rowKeys(props, open, () => props.onSelect([run.run_id], !ticked))}
    >
      <span role="gridcell" onClick={e => e.stopPropagation()}>
        <input
          type="checkbox"
          tabIndex={-1}
          aria-label={trans.__('Select run %1', run.run_id)}
          checked={ticked}
          onChange={e => props.onSelect([run.run_id], e.target.checked)}
        />
      </span>
      {columns.map(c => {
        const live = liveValue(run, c, props.live);
        return (
          <span
            key={c.id}
            role="gridcell"
            className={`${c.numeric ? 'jp-mlexp-num' : ''} ${c.id === 'status' ? `jp-mlexp-status-${run.status}` : ''}`}
          >
            {live ? (
              <span className="jp-mlexp-live" title={trans.__('live: the latest value logged, at step %1', live.step)}>
                {cellText(live.value)}
              </span>
            ) : (
              runCell(run, c)
            )}
            {c.id === 'status' && run.ignored && (
              <span className="jp-mlexp-ignored-mark"> · {trans.__('ignored')}</span>
            )}
          </span>
        );
      })}
    </div>
  );
}

function groupCell(group: IConfigGroup, column: IColumn, trans: TranslationBundle = english): string {
  if (column.id === 'run_id') {
    return group.config;
  }
  if (column.id === 'status') {
    const runs = trans._n('%1 run', '%1 runs', group.runs.length);
    return group.counted === group.runs.length ? runs : trans.__('%1 of %2 counted', group.counted, runs);
  }
  if (column.id === 'mode') {
    return group.mode;
  }
  if (column.id.startsWith('metric:')) {
    return formatStat(group.metrics[column.id.slice(7)]);
  }
  if (column.id.startsWith('param:')) {
    return cellText(cellValue(group.runs[0], column.id));
  }
  return '';
}

/** A configuration's row: Enter or Space ticks all its runs (compared, their curves drawn as mean ± spread). */
function GroupRow(props: { group: IConfigGroup } & IRowProps): JSX.Element {
  const trans = useTrans();
  const ids = props.group.runs.map(r => r.run_id);
  const ticked = ids.every(id => props.selection.includes(id));
  const label = `${props.group.mode} ${props.group.config}`;
  const tick = () => props.onSelect(ids, !ticked);
  const ref = useRovingFocus(props.active);
  return (
    <div
      ref={ref}
      className="jp-mlexp-grid-row jp-mlexp-grid-group"
      style={{ gridTemplateColumns: template(props.columns) }}
      data-config={props.group.config}
      data-row-index={props.index}
      tabIndex={props.active ? 0 : -1}
      aria-selected={ticked}
      title={trans.__('%1: %2 (Enter to compare)', label, ids.join(', '))}
      onFocus={() => props.onFocusRow(props.index)}
      onKeyDown={rowKeys(props, tick, tick)}
    >
      <span role="gridcell">
        <input
          type="checkbox"
          tabIndex={-1}
          aria-label={trans.__('Select configuration %1', label)}
          checked={ticked}
          onChange={e => props.onSelect(ids, e.target.checked)}
        />
      </span>
      {props.columns.map(c => (
        <span key={c.id} role="gridcell" className={c.numeric ? 'jp-mlexp-num' : ''}>
          {groupCell(props.group, c, trans)}
        </span>
      ))}
    </div>
  );
}

function sortGroups(groups: IConfigGroup[], sort: ISort | null): IConfigGroup[] {
  const key = (g: IConfigGroup): unknown =>
    sort?.column.startsWith('metric:')
      ? g.metrics[sort.column.slice(7)]?.mean
      : groupCell(g, { id: sort?.column ?? 'run_id' } as IColumn);
  const sign = sort?.descending ? -1 : 1;
  return groups.slice().sort((a, b) => sign * compareValues(key(a), key(b)));
}

/** The runs (or configurations) as a table with a sortable header; only the rows in view are drawn. */
export function RunsGrid(props: IRunsGridProps): JSX.Element {
  const columns = React.useMemo(
    () => visibleColumns(columnsOf(props.table, props.grouped), props.hidden ?? []),
    [props.table, props.grouped, props.hidden]
  );
  const groups = React.useMemo(
    () =>
      props.grouped ? sortGroups(groupRuns(props.runs, props.table.metrics, props.groups ?? null), props.sort) : [],
    [props.grouped, props.runs, props.table.metrics, props.groups, props.sort]
  );
  const width = SELECT_WIDTH + columns.reduce((a, c) => a + c.width, 0);
  const count = props.grouped ? groups.length : props.runs.length;
  const [focused, setFocused] = React.useState(0);
  const active = Math.min(focused, Math.max(0, count - 1));
  const onMove = (from: HTMLElement, index: number, step: number) => {
    const next = Math.max(0, Math.min(count - 1, index + step));
    setFocused(next);
    focusRow(from.closest('.jp-mlexp-windowed'), next);
  };
  const rowProps = { ...props, columns, onFocusRow: setFocused, onMove };
  return (
    <div className="jp-mlexp-grid" role="grid" aria-rowcount={props.runs.length} style={{ minWidth: width }}>
      <Header columns={columns} sort={props.sort} onSort={props.onSort} />
      {props.grouped ? (
        <WindowedList
          items={groups}
          rowHeight={GRID_ROW_HEIGHT}
          maxHeight={GRID_ROW_HEIGHT * 14}
          holdsFocus
          itemKey={g => `${g.mode}/${g.config}`}
          renderRow={(g, i) => <GroupRow group={g} index={i} active={i === active} {...rowProps} />}
        />
      ) : (
        <WindowedList
          items={props.runs}
          rowHeight={GRID_ROW_HEIGHT}
          maxHeight={GRID_ROW_HEIGHT * 14}
          holdsFocus
          itemKey={r => r.run_id}
          renderRow={(r, i) => <RunRow run={r} index={i} active={i === active} {...rowProps} />}
        />
      )}
    </div>
  );
}
