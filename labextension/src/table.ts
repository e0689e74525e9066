/** The runs table's logic, apart from React: columns, sorting, filtering, grouping by configuration, curves. */

import { formatValue } from './format';
import { IGroupsAnswer, IMetricChunk, IRunsTable, ITableRun } from './tokens';

/** A column id: a fixed field (`status`...), `param:<name>` or `metric:<name>`. */
export type ColumnId = string;

export interface IColumn {
  id: ColumnId;
  label: string;
  /** Pixels; the header and every row share them. */
  width: number;
  numeric: boolean;
}

export interface ISort {
  column: ColumnId;
  descending: boolean;
}

export interface IRunFilter {
  /** Free text; `name=value` words match a parameter exactly, other words any text of the run. */
  text: string;
  status: string;
  mode: string;
  ignored: 'all' | 'counted' | 'ignored';
}

export const EMPTY_FILTER: IRunFilter = { text: '', status: '', mode: '', ignored: 'all' };

const CHAR_PX = 8; // about one character of the grid font (bold in group rows), a little generous
const PAD_PX = 16;
const SAMPLE = 300; // rows looked at to size a column: enough to see the longest values, cheap at 10,000

/** Pixels for a column whose longest text (label included) is `chars` long, within [min, max]. */
function fit(chars: number, min = 44, max = 260): number {
  return Math.round(Math.min(max, Math.max(min, PAD_PX + chars * CHAR_PX)));
}

function longest(values: unknown[], label: string): number {
  return values.reduce<number>((n, v) => Math.max(n, cellText(v).length), label.length + 2); // + the sort arrow
}

/**
 * Run, status and the primary metric first (what a researcher reads), then one column per parameter and per
 * other metric, then mode, seed, stage, start and duration. Each column as wide as its content (sampled).
 * Grouped, the first column holds a configuration's name and metrics hold `mean ± spread`.
 */
export function columnsOf(table: IRunsTable, grouped = false): IColumn[] {
  const sample = table.runs.slice(0, SAMPLE);
  const column = (id: string, label: string, numeric: boolean, max?: number): IColumn => ({
    id,
    label,
    numeric,
    width: fit(
      longest(
        sample.map(r => cellValue(r, id)),
        label
      ),
      44,
      max
    )
  });
  const metricWidth = (m: string) => (grouped ? fit(Math.max(m.length + 2, 18)) : column(`metric:${m}`, m, true).width); // "0.2667 ± 0.01528"
  const primary = table.primary_metric && table.metrics.includes(table.primary_metric) ? table.primary_metric : null;
  const metrics = primary ? [primary, ...table.metrics.filter(m => m !== primary)] : table.metrics;
  const ignoredMark = sample.some(r => r.ignored) ? ' · ignored'.length : 0;
  const first = grouped
    ? {
        ...column('config', 'configuration', false),
        id: 'run_id',
        width: fit(
          longest(
            sample.map(r => r.config),
            ''
          ) + 3,
          44,
          320
        )
      } // bold
    : column('run_id', 'run', false, 200);
  const status: IColumn = grouped
    ? { id: 'status', label: 'status', numeric: false, width: fit('99 runs'.length) }
    : {
        ...column('status', 'status', false),
        width: fit(
          longest(
            sample.map(r => r.status),
            'status'
          ) + ignoredMark
        )
      };
  return [
    first,
    status,
    ...metrics
      .slice(0, primary ? 1 : 0)
      .map(m => ({ id: `metric:${m}`, label: m, numeric: true, width: metricWidth(m) })),
    ...table.params.map(p => column(`param:${p}`, p, true, 160)),
    ...metrics.slice(primary ? 1 : 0).map(m => ({ id: `metric:${m}`, label: m, numeric: true, width: metricWidth(m) })),
    column('mode', 'mode', false),
    column('seed', 'seed', true),
    column('stage', 'stage', false, 140),
    { id: 'started', label: 'started', numeric: false, width: fit(14) },
    { id: 'duration_s', label: 'duration', numeric: true, width: fit(9) }
  ];
}

/** Column names a user may hide by setting, beside parameter and metric names (which hide their own columns). */
const FIXED_NAMES: { [name: string]: ColumnId } = {
  mode: 'mode',
  stage: 'stage',
  status: 'status',
  seed: 'seed',
  started: 'started',
  duration: 'duration_s'
};

/**
 * The columns without those the `hiddenColumns` setting names. The first column (the run, or the
 * configuration) always stays: a row without it cannot be told apart.
 */
export function visibleColumns(columns: IColumn[], hidden: readonly string[]): IColumn[] {
  if (hidden.length === 0) {
    return columns;
  }
  const gone = new Set<ColumnId>();
  for (const name of hidden) {
    gone.add(FIXED_NAMES[name] ?? name);
    gone.add(`param:${name}`);
    gone.add(`metric:${name}`);
  }
  return columns.filter((c, i) => i === 0 || !gone.has(c.id));
}

/** The raw value of a cell, for sorting and filtering. */
export function cellValue(run: ITableRun, column: ColumnId): unknown {
  if (column.startsWith('param:')) {
    return run.params[column.slice(6)];
  }
  if (column.startsWith('metric:')) {
    return run.metrics[column.slice(7)];
  }
  return (run as unknown as { [key: string]: unknown })[column];
}

/** A cell as text: numbers with four significant digits, objects as JSON. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) {
    return '–';
  }
  if (typeof value === 'number') {
    return formatValue(value);
  }
  if (typeof value === 'string') {
    return value;
  }
  return JSON.stringify(value);
}

/** Numbers before text, missing values last, whichever the direction. */
export function compareValues(a: unknown, b: unknown): number {
  const missingA = a === null || a === undefined;
  const missingB = b === null || b === undefined;
  if (missingA || missingB) {
    return missingA === missingB ? 0 : missingA ? 1 : -1;
  }
  if (typeof a === 'number' && typeof b === 'number') {
    return a - b;
  }
  if (typeof a === 'number') {
    return -1;
  }
  if (typeof b === 'number') {
    return 1;
  }
  return cellText(a).localeCompare(cellText(b), undefined, { numeric: true });
}

export function sortRuns(runs: ITableRun[], sort: ISort | null): ITableRun[] {
  if (!sort) {
    return runs;
  }
  const sign = sort.descending ? -1 : 1;
  const keyed = runs.map(run => ({ run, key: cellValue(run, sort.column) }));
  keyed.sort((x, y) => {
    const missing = (x.key === null || x.key === undefined) !== (y.key === null || y.key === undefined);
    const order = compareValues(x.key, y.key);
    return missing ? order : sign * order;
  });
  return keyed.map(k => k.run);
}

function paramMatches(run: ITableRun, word: string): boolean {
  const at = word.indexOf('=');
  const key = word.slice(0, at);
  const wanted = word.slice(at + 1);
  const value = cellValue(run, `param:${key}`);
  return value !== undefined && cellText(value) === wanted;
}

function textOf(run: ITableRun): string {
  return [run.run_id, run.status, run.mode, run.stage, run.config, run.ignored_reason, run.problem]
    .filter(Boolean)
    .join(' ')
    .toLowerCase();
}

export function filterRuns(runs: ITableRun[], filter: IRunFilter): ITableRun[] {
  const words = filter.text.trim().split(/\s+/).filter(Boolean);
  return runs.filter(run => {
    if ((filter.status && run.status !== filter.status) || (filter.mode && run.mode !== filter.mode)) {
      return false;
    }
    if ((filter.ignored === 'counted' && run.ignored) || (filter.ignored === 'ignored' && !run.ignored)) {
      return false;
    }
    const text = textOf(run);
    return words.every(w => (w.indexOf('=') > 0 ? paramMatches(run, w) : text.includes(w.toLowerCase())));
  });
}

export interface IStat {
  mean: number;
  /** Sample standard deviation over the runs; null with one run. */
  spread: number | null;
  n: number;
}

export function stat(values: number[]): IStat | null {
  if (values.length === 0) {
    return null;
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length < 2) {
    return { mean, spread: null, n: 1 };
  }
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, spread: Math.sqrt(variance), n: values.length };
}

export function formatStat(s: IStat | null | undefined): string {
  if (!s) {
    return '–';
  }
  return s.spread === null ? formatValue(s.mean) : `${formatValue(s.mean)} ± ${formatValue(s.spread)}`;
}

export interface IConfigGroup {
  config: string;
  mode: string;
  stage: string;
  runs: ITableRun[];
  /** The server's numbers (`core.views.config_groups`): over the runs the verdict counts, each seed once. */
  metrics: { [metric: string]: IStat | null };
  /** How many of `runs` count (each seed once, completed, not ignored). */
  counted: number;
}

function groupKey(mode: string, stage: string | null | undefined, config: string): string {
  return `${mode}\u0000${stage ?? ''}\u0000${config}`;
}

/**
 * Runs of one configuration, stage and mode together, with each metric's mean ± sd over the seeds the
 * verdict counts. The statistics are the server's (`groups`); nothing is computed here, so the table
 * cannot disagree with the verdict about which runs count.
 */
export function groupRuns(runs: ITableRun[], metrics: string[], server: IGroupsAnswer | null = null): IConfigGroup[] {
  const stats = new Map((server?.groups ?? []).map(g => [groupKey(g.mode, g.stage, g.config), g]));
  const groups = new Map<string, IConfigGroup>();
  for (const run of runs) {
    const config = server?.members[run.run_id] ?? run.config;
    const key = groupKey(run.mode, run.stage, config);
    let group = groups.get(key);
    if (!group) {
      const s = stats.get(key);
      group = {
        config,
        mode: run.mode,
        stage: run.stage ?? '',
        runs: [],
        metrics: Object.fromEntries(
          metrics.map(m => {
            const v = s?.metrics[m];
            return [m, v ? { mean: v.mean, spread: v.sd, n: v.n } : null];
          })
        ),
        counted: s?.counted.length ?? 0
      };
      groups.set(key, group);
    }
    group.runs.push(run);
  }
  return Array.from(groups.values());
}

/** Points of one metric, `[step, value]`, by metric name. */
export type Series = { [metric: string]: [number, number][] };

/** What the curves know of a run: its points so far and where to read on. */
export interface ICurveData {
  offset: number;
  status: string;
  series: Series;
  /** The file's bytes at the last read: the curve is whole once `offset` reached them. */
  size?: number;
  /** Set when the server sampled the curve: the points each metric logged in all (more than `series` holds). */
  total?: { [metric: string]: number };
  /** Points appended as logged after the server's sample, by metric (a fresh sample is asked once they are many). */
  tail?: { [metric: string]: number };
  /** The server's first look at a long file (parts of it, `total` estimated): its exact sample is asked next. */
  approximate?: boolean;
}

/**
 * Add a chunk read from `offset` to what was known (start over when the server says the file was replaced).
 * After a sampled curve the points come as logged: each metric's total and tail count them.
 */
export function mergeChunk(known: ICurveData | undefined, chunk: IMetricChunk): ICurveData {
  const fresh = chunk.reset || !known;
  const series: Series = fresh ? {} : { ...known.series };
  const total = fresh || !known.total ? null : { ...known.total };
  const tail = fresh || !known.tail ? {} : { ...known.tail };
  for (const [name, points] of Object.entries(chunk.series)) {
    series[name] = series[name] ? series[name].concat(points) : points;
    if (total) {
      total[name] = (total[name] ?? 0) + points.length;
      tail[name] = (tail[name] ?? 0) + points.length;
    }
  }
  const data: ICurveData = { offset: chunk.next_offset, status: chunk.status, series, size: chunk.size };
  return total ? { ...data, total, tail } : data;
}

/** The server's sample of a whole curve (`?points=N`): its points, and how many each metric logged in all. */
export function sampledCurve(chunk: IMetricChunk): ICurveData {
  const total: { [metric: string]: number } = {};
  for (const [name, points] of Object.entries(chunk.series)) {
    total[name] = Math.max(chunk.points?.[name] ?? 0, points.length);
  }
  const data = {
    offset: chunk.next_offset,
    status: chunk.status,
    series: chunk.series,
    size: chunk.size,
    total,
    tail: {}
  };
  return chunk.approximate ? { ...data, approximate: true } : data;
}

/** Mean and ± one spread at each step the runs share, for a configuration's curve. */
export function meanCurve(curves: [number, number][][]): { step: number; mean: number; lo: number; hi: number }[] {
  const bySteps = new Map<number, number[]>();
  for (const curve of curves) {
    for (const [step, value] of curve) {
      const values = bySteps.get(step) ?? [];
      values.push(value);
      bySteps.set(step, values);
    }
  }
  return Array.from(bySteps.entries())
    .sort((a, b) => a[0] - b[0])
    .map(([step, values]) => {
      const s = stat(values)!;
      const spread = s.spread ?? 0;
      return { step, mean: s.mean, lo: s.mean - spread, hi: s.mean + spread };
    });
}

/** Parameters whose values differ between the runs, to highlight them when comparing. */
export function differingParams(runs: ITableRun[], params: string[]): Set<string> {
  const out = new Set<string>();
  for (const p of params) {
    const values = new Set(runs.map(r => cellText(cellValue(r, `param:${p}`))));
    if (values.size > 1) {
      out.add(p);
    }
  }
  return out;
}
