import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { courseLine } from '../components/CourseFields';
import { useTrans } from '../trans';

import { ClassColumn, IClassViewState, rowKey } from './model';
import { IClassRow } from './tokens';

export interface IClassViewProps {
  state: IClassViewState;
  onSort: (column: ClassColumn) => void;
  onFlag: (flag: string | null) => void;
  onToggle: (key: string) => void;
  onRefresh: () => void;
  /** Open a file the class report wrote (`class_report.ipynb`, `class_table.csv`, ...). */
  onOpenReport: (name: string) => void;
}

function columns(trans: TranslationBundle): { column: ClassColumn; label: string; title: string }[] {
  return [
    { column: 'student', label: trans.__('Student'), title: trans.__('The key the collection used') },
    { column: 'experiment', label: trans.__('Experiment'), title: trans.__('The experiment in the student’s record') },
    { column: 'verdict', label: trans.__('Verdict'), title: trans.__('The one verdict, as every surface shows it') },
    { column: 'n', label: trans.__('n'), title: trans.__('Seeds counted per judged configuration') },
    { column: 'runs', label: trans.__('Runs'), title: trans.__('Full runs counted · quick · failed · ignored') },
    {
      column: 'flags',
      label: trans.__('Audit flags'),
      title: trans.__('What the audit found (open a row for the grounds)')
    }
  ];
}

function verdictClass(word: string): string {
  return `jp-mlexp-verdict jp-mlexp-verdict-${word.replace(/\s+/g, '-')}`;
}

function Head({ state, onSort }: Pick<IClassViewProps, 'state' | 'onSort'>): JSX.Element {
  const trans = useTrans();
  return (
    <tr>
      {columns(trans).map(({ column, label, title }) => {
        const on = state.sort.column === column;
        return (
          <th key={column} aria-sort={on ? (state.sort.descending ? 'descending' : 'ascending') : 'none'} title={title}>
            <button className="jp-mlexp-class-sort" onClick={() => onSort(column)}>
              {label}
              {on ? (state.sort.descending ? ' ▾' : ' ▴') : ''}
            </button>
          </th>
        );
      })}
    </tr>
  );
}

function List({ title, items }: { title: string; items: string[] }): JSX.Element | null {
  if (items.length === 0) {
    return null;
  }
  return (
    <div className="jp-mlexp-class-grounds">
      <div className="jp-mlexp-class-grounds-title">{title}</div>
      <ul>
        {items.map((item, i) => (
          <li key={i}>{item}</li>
        ))}
      </ul>
    </div>
  );
}

/** What a row's verdict and flags rest on: reason, findings, changes, ignored runs, seeds, course, missing files. */
function Details({ row }: { row: IClassRow }): JSX.Element {
  const trans = useTrans();
  const ignored = row.ignored.map(i => `${i.run_id}: ${i.reason || trans.__('(no reason)')}`);
  return (
    <div className="jp-mlexp-class-details">
      {row.statement !== null && (
        <div>
          <span className="jp-mlexp-muted">
            {trans._n('Hypothesis (%1 version):', 'Hypothesis (%1 versions):', row.hypothesis_versions)}{' '}
          </span>
          {row.statement} <code>{row.success}</code>
        </div>
      )}
      {row.problem && <div className="jp-mlexp-warning">{row.problem}</div>}
      <div>
        <span className="jp-mlexp-muted">{trans.__('Verdict:')} </span>
        {row.reason}
      </div>
      {row.runs.ignored > 0 && (
        <div>
          <span className="jp-mlexp-muted">{trans.__('With the ignored runs counted:')} </span>
          {row.verdict_with_ignored}
        </div>
      )}
      {row.verdict_first_version && (
        <div>
          <span className="jp-mlexp-muted">{trans.__('Under the first version:')} </span>
          {row.verdict_first_version}
        </div>
      )}
      <List title={trans.__('Verification findings')} items={row.findings} />
      <List title={trans.__('Changed after runs')} items={row.changed_after_runs} />
      <List title={trans.__('Ignored runs')} items={ignored} />
      <List title={trans.__('Seeds of the exploration re-run')} items={row.reused_seeds} />
      <List title={trans.__('Contradicts the course file')} items={row.course} />
      <List title={trans.__('Missing from the collection')} items={row.missing} />
      <div className="jp-mlexp-muted">
        {trans.__('Files:')} <code>{row.source}</code>
      </div>
    </div>
  );
}

function Row({ row, open, onToggle }: { row: IClassRow; open: boolean; onToggle: (key: string) => void }) {
  const trans = useTrans();
  const key = rowKey(row);
  const r = row.runs;
  const runs = [
    trans.__('%1 full', r.full),
    trans.__('%1 quick', r.quick),
    ...(r.failed > 0 ? [trans.__('%1 failed', r.failed)] : []),
    ...(r.ignored > 0 ? [trans.__('%1 ignored', r.ignored)] : [])
  ].join(' · ');
  return (
    <>
      <tr
        className={`jp-mlexp-class-row${open ? ' jp-mlexp-class-open' : ''}`}
        data-student={row.student}
        aria-expanded={open}
        tabIndex={0}
        onClick={() => onToggle(key)}
        onKeyDown={e => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            onToggle(key);
          }
        }}
      >
        <td className="jp-mlexp-class-student">{row.student}</td>
        <td>
          <code>{row.experiment}</code>
        </td>
        <td>
          {row.verdict ? (
            <span className={verdictClass(row.verdict)} title={row.reason}>
              {row.verdict}
            </span>
          ) : (
            '—'
          )}
          {!row.verified && <span className="jp-mlexp-class-unverified"> {trans.__('unverified')}</span>}
        </td>
        <td className="jp-mlexp-class-n">{row.n}</td>
        <td className="jp-mlexp-class-runs" title={trans.__('full · quick · failed · ignored')}>
          {runs}
        </td>
        <td className="jp-mlexp-class-flags">
          {row.flags.length === 0 ? (
            <span className="jp-mlexp-muted">{trans.__('none')}</span>
          ) : (
            row.flags.map(f => (
              <span key={f} className="jp-mlexp-class-flag">
                {f}
              </span>
            ))
          )}
        </td>
      </tr>
      {open && (
        <tr className="jp-mlexp-class-details-row">
          <td colSpan={columns(trans).length}>
            <Details row={row} />
          </td>
        </tr>
      )}
    </>
  );
}

/** A collected class, read-only: one row per student and experiment, the audit flags, the verdict with n. */
export function ClassView(props: IClassViewProps): JSX.Element {
  const { state, onFlag, onRefresh, onOpenReport } = props;
  const trans = useTrans();
  const data = state.data;
  if (!data) {
    return (
      <div className="jp-mlexp-class-view">
        <h2 className="jp-mlexp-class-title">{trans.__('Class: %1', state.dir)}</h2>
        {state.status === 'error' ? (
          <div className="jp-mlexp-error" role="alert">
            {state.error}
          </div>
        ) : (
          <div className="jp-mlexp-muted">{trans.__('Reading the class…')}</div>
        )}
      </div>
    );
  }
  const flags = Object.entries(data.flags);
  const about = [
    trans.__('collection %1', data.collection ?? '?') + (data.time ? ` (${data.time})` : ''),
    trans._n('%1 student', '%1 students', data.students),
    trans._n('%1 experiment', '%1 experiments', data.rows.length),
    trans.__('read-only')
  ].join(' · ');
  return (
    <div className="jp-mlexp-class-view">
      <div className="jp-mlexp-class-head">
        <h2 className="jp-mlexp-class-title">{trans.__('Class: %1', data.dir)}</h2>
        <span className="jp-mlexp-muted">{about}</span>
        <span className="jp-mlexp-class-actions">
          {data.reports.map(name => (
            <button key={name} className="jp-mlexp-button jp-mlexp-small" onClick={() => onOpenReport(name)}>
              {trans.__('Open %1', name)}
            </button>
          ))}
          <button className="jp-mlexp-button jp-mlexp-small" onClick={onRefresh}>
            {trans.__('Refresh')}
          </button>
        </span>
      </div>
      {state.status === 'error' && (
        <div className="jp-mlexp-error" role="alert">
          {state.error}
        </div>
      )}
      {data.course && <div className="jp-mlexp-class-course">{courseLine(data.course, trans)}</div>}
      <div className="jp-mlexp-class-summary" aria-label={trans.__('Verdicts and flags')}>
        {Object.entries(data.verdicts).map(([verdict, n]) => (
          <span key={verdict} className="jp-mlexp-class-count">
            <span className={verdictClass(verdict || 'none')}>{verdict || trans.__('no verdict')}</span> {n}
          </span>
        ))}
        {flags.map(([flag, n]) => (
          <button
            key={flag}
            className={`jp-mlexp-class-flag jp-mlexp-class-filter${state.flag === flag ? ' jp-mlexp-active' : ''}`}
            aria-pressed={state.flag === flag}
            title={state.flag === flag ? trans.__('Show every row') : trans.__('Show only the rows flagged “%1”', flag)}
            onClick={() => onFlag(flag)}
          >
            {flag} {n}
          </button>
        ))}
      </div>
      <table className="jp-mlexp-class-table">
        <thead>
          <Head {...props} />
        </thead>
        <tbody>
          {state.rows.map(row => (
            <Row key={rowKey(row)} row={row} open={state.open === rowKey(row)} onToggle={props.onToggle} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
