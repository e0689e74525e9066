import * as React from 'react';

import { formatDuration, formatTime } from '../format';
import {
  cellText,
  cellValue,
  columnsOf,
  compareValues,
  formatStat,
  IColumn,
  IConfigGroup,
  ISort,
  groupRuns
} from '../table';
import { IRunsTable, ITableRun } from '../tokens';
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
}

function template(columns: IColumn[]): string {
  return [`${SELECT_WIDTH}px`, ...columns.map(c => `${c.width}px`)].join(' ');
}

function Header(props: { columns: IColumn[]; sort: ISort | null; onSort: (c: string) => void }): JSX.Element {
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
            <button className="jp-mlexp-sort" title={`Sort by ${c.label}`} onClick={() => props.onSort(c.id)}>
              {c.label}
              {sorted ? (props.sort!.descending ? ' ▼' : ' ▲') : ''}
            </button>
          </span>
        );
      })}
    </div>
  );
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

/** Arrow keys move between rows, scrolling the windowed list so the next row is drawn, then focus it. */
export function moveFocus(from: HTMLElement, runs: ITableRun[], index: number, step: number): void {
  const target = runs[index + step];
  const scroller = from.closest('.jp-mlexp-windowed');
  if (!target || !scroller) {
    return;
  }
  const top = (index + step) * GRID_ROW_HEIGHT;
  if (top < scroller.scrollTop) {
    scroller.scrollTop = top;
  } else if (top + GRID_ROW_HEIGHT > scroller.scrollTop + scroller.clientHeight) {
    scroller.scrollTop = top + GRID_ROW_HEIGHT - scroller.clientHeight;
  }
  const focus = () =>
    Array.from(scroller.querySelectorAll<HTMLElement>('.jp-mlexp-grid-run'))
      .find(el => el.dataset.runId === target.run_id)
      ?.focus();
  focus();
  requestAnimationFrame(focus); // after the scroll drew the row
}

function RunRow(props: { run: ITableRun; index: number; columns: IColumn[] } & IRunsGridProps): JSX.Element {
  const { run, columns } = props;
  const ticked = props.selection.includes(run.run_id);
  const open = () => props.onOpen(run.run_id);
  const classes = ['jp-mlexp-grid-row', 'jp-mlexp-grid-run'];
  if (run.ignored) {
    classes.push('jp-mlexp-run-ignored');
  }
  if (props.openRun === run.run_id) {
    classes.push('jp-mlexp-grid-open');
  }
  return (
    <div
      className={classes.join(' ')}
      style={{ gridTemplateColumns: template(columns) }}
      data-run-id={run.run_id}
      tabIndex={0}
      aria-selected={props.openRun === run.run_id}
      title={run.ignored ? `ignored: ${run.ignored_reason ?? ''}` : run.run_id}
      onClick={open}
      onKeyDown={e => {
        if (e.key === 'Enter') {
          open();
        } else if (e.key === ' ') {
          e.preventDefault();
          props.onSelect([run.run_id], !ticked);
        } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
          e.preventDefault();
          moveFocus(e.currentTarget, props.runs, props.index, e.key === 'ArrowDown' ? 1 : -1);
        }
      }}
    >
      <span role="gridcell" onClick={e => e.stopPropagation()}>
        <input
          type="checkbox"
          aria-label={`Select run ${run.run_id}`}
          checked={ticked}
          onChange={e => props.onSelect([run.run_id], e.target.checked)}
        />
      </span>
      {columns.map(c => (
        <span
          key={c.id}
          role="gridcell"
          className={`${c.numeric ? 'jp-mlexp-num' : ''} ${c.id === 'status' ? `jp-mlexp-status-${run.status}` : ''}`}
        >
          {runCell(run, c)}
          {c.id === 'status' && run.ignored && <span className="jp-mlexp-ignored-mark"> · ignored</span>}
        </span>
      ))}
    </div>
  );
}

function groupCell(group: IConfigGroup, column: IColumn): string {
  if (column.id === 'run_id') {
    return group.config;
  }
  if (column.id === 'status') {
    return `${group.runs.length} run${group.runs.length === 1 ? '' : 's'}`;
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

function GroupRow(props: { group: IConfigGroup; columns: IColumn[] } & IRunsGridProps): JSX.Element {
  const ids = props.group.runs.map(r => r.run_id);
  const ticked = ids.every(id => props.selection.includes(id));
  const label = `${props.group.mode} ${props.group.config}`;
  return (
    <div
      className="jp-mlexp-grid-row jp-mlexp-grid-group"
      style={{ gridTemplateColumns: template(props.columns) }}
      data-config={props.group.config}
      title={`${label}: ${ids.join(', ')}`}
    >
      <span role="gridcell">
        <input
          type="checkbox"
          aria-label={`Select configuration ${label}`}
          checked={ticked}
          onChange={e => props.onSelect(ids, e.target.checked)}
        />
      </span>
      {props.columns.map(c => (
        <span key={c.id} role="gridcell" className={c.numeric ? 'jp-mlexp-num' : ''}>
          {groupCell(props.group, c)}
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
  const columns = React.useMemo(() => columnsOf(props.table, props.grouped), [props.table, props.grouped]);
  const groups = React.useMemo(
    () => (props.grouped ? sortGroups(groupRuns(props.runs, props.table.metrics), props.sort) : []),
    [props.grouped, props.runs, props.table.metrics, props.sort]
  );
  const width = SELECT_WIDTH + columns.reduce((a, c) => a + c.width, 0);
  return (
    <div className="jp-mlexp-grid" role="grid" aria-rowcount={props.runs.length} style={{ minWidth: width }}>
      <Header columns={columns} sort={props.sort} onSort={props.onSort} />
      {props.grouped ? (
        <WindowedList
          items={groups}
          rowHeight={GRID_ROW_HEIGHT}
          maxHeight={GRID_ROW_HEIGHT * 14}
          itemKey={g => `${g.mode}/${g.config}`}
          renderRow={g => <GroupRow group={g} columns={columns} {...props} />}
        />
      ) : (
        <WindowedList
          items={props.runs}
          rowHeight={GRID_ROW_HEIGHT}
          maxHeight={GRID_ROW_HEIGHT * 14}
          itemKey={r => r.run_id}
          renderRow={(r, i) => <RunRow run={r} index={i} columns={columns} {...props} />}
        />
      )}
    </div>
  );
}
