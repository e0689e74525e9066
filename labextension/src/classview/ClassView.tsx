import * as React from 'react';

import { courseText } from '../components/CourseFields';

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

const COLUMNS: { column: ClassColumn; label: string; title: string }[] = [
  { column: 'student', label: 'Student', title: 'The key the collection used' },
  { column: 'experiment', label: 'Experiment', title: 'The experiment in the student’s record' },
  { column: 'verdict', label: 'Verdict', title: 'The one verdict, as every surface shows it' },
  { column: 'n', label: 'n', title: 'Seeds counted per judged configuration' },
  { column: 'runs', label: 'Runs', title: 'Full runs counted · quick · failed · ignored' },
  { column: 'flags', label: 'Audit flags', title: 'What the audit found (open a row for the grounds)' }
];

function verdictClass(word: string): string {
  return `jp-mlexp-verdict jp-mlexp-verdict-${word.replace(/\s+/g, '-')}`;
}

function Head({ state, onSort }: Pick<IClassViewProps, 'state' | 'onSort'>): JSX.Element {
  return (
    <tr>
      {COLUMNS.map(({ column, label, title }) => {
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

/** What a row's verdict and flags rest on: reason, findings, changes, ignored runs, seeds, course. */
function Details({ row }: { row: IClassRow }): JSX.Element {
  const ignored = row.ignored.map(i => `${i.run_id}: ${i.reason || '(no reason)'}`);
  return (
    <div className="jp-mlexp-class-details">
      {row.statement !== null && (
        <div>
          <span className="jp-mlexp-muted">Hypothesis ({row.hypothesis_versions} version(s)): </span>
          {row.statement} <code>{row.success}</code>
        </div>
      )}
      {row.problem && <div className="jp-mlexp-warning">{row.problem}</div>}
      <div>
        <span className="jp-mlexp-muted">Verdict: </span>
        {row.reason}
      </div>
      {row.runs.ignored > 0 && (
        <div>
          <span className="jp-mlexp-muted">With the ignored runs counted: </span>
          {row.verdict_with_ignored}
        </div>
      )}
      {row.verdict_first_version && (
        <div>
          <span className="jp-mlexp-muted">Under the first version: </span>
          {row.verdict_first_version}
        </div>
      )}
      <List title="Verification findings" items={row.findings} />
      <List title="Changed after runs" items={row.changed_after_runs} />
      <List title="Ignored runs" items={ignored} />
      <List title="Seeds of the exploration re-run" items={row.reused_seeds} />
      <List title="Contradicts the course file" items={row.course} />
      <div className="jp-mlexp-muted">
        Files: <code>{row.source}</code>
      </div>
    </div>
  );
}

function Row({ row, open, onToggle }: { row: IClassRow; open: boolean; onToggle: (key: string) => void }) {
  const key = rowKey(row);
  const r = row.runs;
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
          {!row.verified && <span className="jp-mlexp-class-unverified"> unverified</span>}
        </td>
        <td className="jp-mlexp-class-n">{row.n}</td>
        <td className="jp-mlexp-class-runs" title="full · quick · failed · ignored">
          {r.full} full · {r.quick} quick
          {r.failed > 0 ? ` · ${r.failed} failed` : ''}
          {r.ignored > 0 ? ` · ${r.ignored} ignored` : ''}
        </td>
        <td className="jp-mlexp-class-flags">
          {row.flags.length === 0 ? (
            <span className="jp-mlexp-muted">none</span>
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
          <td colSpan={COLUMNS.length}>
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
  const data = state.data;
  if (!data) {
    return (
      <div className="jp-mlexp-class-view">
        <h2 className="jp-mlexp-class-title">Class: {state.dir}</h2>
        {state.status === 'error' ? (
          <div className="jp-mlexp-error" role="alert">
            {state.error}
          </div>
        ) : (
          <div className="jp-mlexp-muted">Reading the class…</div>
        )}
      </div>
    );
  }
  const flags = Object.entries(data.flags);
  return (
    <div className="jp-mlexp-class-view">
      <div className="jp-mlexp-class-head">
        <h2 className="jp-mlexp-class-title">Class: {data.dir}</h2>
        <span className="jp-mlexp-muted">
          collection {data.collection ?? '?'}
          {data.time ? ` (${data.time})` : ''} · {data.students} students · {data.rows.length} experiments · read-only
        </span>
        <span className="jp-mlexp-class-actions">
          {data.reports.map(name => (
            <button key={name} className="jp-mlexp-button jp-mlexp-small" onClick={() => onOpenReport(name)}>
              Open {name}
            </button>
          ))}
          <button className="jp-mlexp-button jp-mlexp-small" onClick={onRefresh}>
            Refresh
          </button>
        </span>
      </div>
      {state.status === 'error' && (
        <div className="jp-mlexp-error" role="alert">
          {state.error}
        </div>
      )}
      {data.course && (
        <div className="jp-mlexp-class-course">
          Course{data.course.course ? ` ${data.course.course}` : ''}: {courseText(data.course)}
        </div>
      )}
      <div className="jp-mlexp-class-summary" aria-label="Verdicts and flags">
        {Object.entries(data.verdicts).map(([verdict, n]) => (
          <span key={verdict} className="jp-mlexp-class-count">
            <span className={verdictClass(verdict || 'none')}>{verdict || 'no verdict'}</span> {n}
          </span>
        ))}
        {flags.map(([flag, n]) => (
          <button
            key={flag}
            className={`jp-mlexp-class-flag jp-mlexp-class-filter${state.flag === flag ? ' jp-mlexp-active' : ''}`}
            aria-pressed={state.flag === flag}
            title={state.flag === flag ? 'Show every row' : `Show only the rows flagged “${flag}”`}
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
