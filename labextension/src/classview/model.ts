import { requestAPI } from '../handler';
import { IPollOptions, PolledModel } from '../polledModel';
import { IClassAnswer, IClassRow, IClassWorkspaces } from './tokens';

/** The columns the class table sorts by. */
export type ClassColumn = 'student' | 'experiment' | 'verdict' | 'n' | 'runs' | 'flags';

export interface IClassViewState {
  /** The class workspace, relative to the server root. */
  dir: string;
  status: 'loading' | 'ready' | 'error';
  error: string | null;
  data: IClassAnswer | null;
  sort: { column: ClassColumn; descending: boolean };
  /** Only rows carrying this flag; null: every row. */
  flag: string | null;
  /** The rows as shown: filtered by `flag`, sorted by `sort`. */
  rows: IClassRow[];
  /** `student/experiment` of the row opened to its details. */
  open: string | null;
}

/** The key of a row: a student may have several experiments. */
export function rowKey(row: IClassRow): string {
  return `${row.student}/${row.experiment}`;
}

const VERDICT_ORDER = ['supported', 'not supported', 'inconclusive'];

function compare(a: IClassRow, b: IClassRow, column: ClassColumn): number {
  switch (column) {
    case 'verdict': {
      const rank = (r: IClassRow) => {
        const i = VERDICT_ORDER.indexOf(r.verdict);
        return i < 0 ? VERDICT_ORDER.length : i;
      };
      return rank(a) - rank(b);
    }
    case 'runs':
      return a.runs.full - b.runs.full || a.runs.quick - b.runs.quick;
    case 'flags':
      return a.flags.length - b.flags.length;
    default:
      return a[column].localeCompare(b[column]);
  }
}

/** Filter and sort: the order is stable (student, then experiment, breaks ties). */
export function arrange(rows: IClassRow[], sort: IClassViewState['sort'], flag: string | null): IClassRow[] {
  const sign = sort.descending ? -1 : 1;
  return rows
    .filter(r => flag === null || r.flags.includes(flag))
    .sort(
      (a, b) =>
        sign * compare(a, b, sort.column) ||
        a.student.localeCompare(b.student) ||
        a.experiment.localeCompare(b.experiment)
    );
}

/** `class?dir=FOLDER`, the folder's segments kept as they are (the server resolves it under its root). */
export function classEndpoint(dir: string): string {
  return `class?dir=${encodeURIComponent(dir)}`;
}

/** The class workspaces under the server root, for "Open Class View" to offer. */
export async function listClassWorkspaces(): Promise<string[]> {
  return (await requestAPI<IClassWorkspaces>('class')).workspaces;
}

/**
 * The class view's one talker to the server: reads a collected class (read-only) and keeps the view's
 * sort, flag filter and opened row. The components only render its state.
 */
export class ClassViewModel extends PolledModel<IClassViewState> {
  constructor(dir: string, options: IPollOptions = {}) {
    super(
      {
        dir,
        status: 'loading',
        error: null,
        data: null,
        sort: { column: 'student', descending: false },
        flag: null,
        rows: [],
        open: null
      },
      `jupyter-mlexp:class:${dir}`,
      // a new collection is rare: the server keeps its answer until one comes, so a poll costs a few stats
      30000,
      options
    );
  }

  async refresh(): Promise<void> {
    const dir = this._state.dir;
    try {
      const data = await requestAPI<IClassAnswer>(classEndpoint(dir));
      const { sort, flag } = this._state;
      const keep = flag !== null && (data.flags[flag] ?? 0) > 0 ? flag : null;
      this._update({ status: 'ready', error: null, data, flag: keep, rows: arrange(data.rows, sort, keep) });
    } catch (error) {
      this._update({ status: 'error', error: (error as Error).message ?? String(error) });
      throw error;
    }
  }

  /** Sort by `column`; the same column again reverses the order. */
  setSort(column: ClassColumn): void {
    const old = this._state.sort;
    const sort = { column, descending: old.column === column ? !old.descending : false };
    this._update({ sort, rows: arrange(this._state.data?.rows ?? [], sort, this._state.flag) });
  }

  /** Show only the rows with `flag`; the same flag again (or null) shows every row. */
  setFlag(flag: string | null): void {
    const next = flag === this._state.flag ? null : flag;
    this._update({ flag: next, rows: arrange(this._state.data?.rows ?? [], this._state.sort, next) });
  }

  /** Open a row to its details; the open row again closes it. */
  toggle(key: string): void {
    this._update({ open: this._state.open === key ? null : key });
  }

  /** A file the class report wrote, relative to the server root (to open it in JupyterLab). */
  reportPath(name: string): string {
    const dir = this._state.dir.replace(/\/+$/, '');
    return dir === '' || dir === '.' ? name : `${dir}/${name}`;
  }
}
