import * as actions from './actions';
import { experimentPath, requestAPI } from './handler';
import { MlexpModel } from './model';
import { IPollOptions, PolledModel, requestPolled } from './polledModel';
import { EMPTY_FILTER, ICurveData, IRunFilter, ISort, mergeChunk, sampledCurve } from './table';
import { IAttemptPatch, IGroupsAnswer, ILoop, IMetricChunk, IRunDetail, IRunsTable } from './tokens';

const NO_LOOPS: ILoop[] = [];

/** Reads per poll and run before the rest waits for the next poll (a large file comes in chunks). */
const MAX_CHUNKS_PER_POLL = 20;
/** Points a metric of a sampled curve has (the server's `?points=`): about what the chart draws of a curve. */
export const SAMPLE_POINTS = 4000;
/**
 * Points a metric of a curve may hold as logged; a longer curve is held as the server's sample. Whole curves
 * keep the runs' steps aligned for a configuration's mean curve; past this, they cost memory and draw the same.
 */
export const MAX_WHOLE_POINTS = 100000;
/** Running runs whose latest values the table shows live (their metrics.jsonl read from an offset, as curves). */
const MAX_LIVE_RUNS = 12;

/**
 * A curve held that should be asked for sampled: a sample followed by more new lines than a sample has, or
 * a curve as logged whose file, read to its end, would hold more than MAX_WHOLE_POINTS points of a metric.
 */
function tooLong(data: ICurveData): boolean {
  if (data.total) {
    return Object.values(data.tail ?? {}).some(n => n > SAMPLE_POINTS);
  }
  const most = Math.max(0, ...Object.values(data.series).map(p => p.length));
  const share = data.offset > 0 && data.size ? data.size / data.offset : 1;
  return most * share > MAX_WHOLE_POINTS;
}

export interface IRunsViewState {
  experiment: string | null;
  table: IRunsTable | null;
  error: string | null;
  sort: ISort | null;
  filter: IRunFilter;
  grouped: boolean;
  /** Runs ticked for comparing, curves or ignoring together. */
  selection: string[];
  /** The run whose page is open below the table. */
  openRun: string | null;
  detail: IRunDetail | null;
  /** The metric the curves plot. */
  curveMetric: string | null;
  curves: { [runId: string]: ICurveData };
  /** The experiment's keep/discard loops, and the diff of the attempt opened. */
  loops: ILoop[];
  patch: IAttemptPatch | null;
  busy: boolean;
  /** Column names the user's settings hide. */
  hiddenColumns: readonly string[];
  /** The server's groups, read only while the table is grouped. */
  groups: IGroupsAnswer | null;
}

export type IRunsViewOptions = IPollOptions;

const INITIAL_STATE: IRunsViewState = {
  experiment: null,
  table: null,
  error: null,
  sort: null,
  filter: EMPTY_FILTER,
  grouped: false,
  selection: [],
  openRun: null,
  detail: null,
  curveMetric: null,
  curves: {},
  loops: NO_LOOPS,
  patch: null,
  busy: false,
  hiddenColumns: [],
  groups: null
};

/**
 * The runs table's state: the table of the experiment the sidebar shows, the open run,
 * the ticked runs and their curves. Polls with the sidebar's back-off while visible;
 * a curve's update asks only for what `metrics.jsonl` gained since the last read.
 */
export class RunsViewModel extends PolledModel<IRunsViewState> {
  constructor(
    readonly sidebar: MlexpModel,
    options: IRunsViewOptions = {}
  ) {
    super({ ...INITIAL_STATE, experiment: sidebar.state.selected }, 'jupyter-mlexp:runs', 3000, options);
    sidebar.stateChanged.connect(this._onSidebar);
  }

  /** The table, the open run's page and the new points of every curve shown. */
  async refresh(): Promise<void> {
    const name = this._state.experiment;
    if (!name) {
      return;
    }
    try {
      // An unchanged table comes back as the very object held: the update below then changes nothing.
      // The loops are the sidebar model's (one poll of that endpoint); it polls them itself while shown.
      const [table] = await Promise.all([
        requestPolled<IRunsTable>(experimentPath(name, 'table'), this._state.table),
        this.sidebar.visible ? Promise.resolve() : this.sidebar.refreshLoops().catch(() => undefined)
      ]);
      if (name !== this._state.experiment) {
        return;
      }
      const curveMetric = this._state.curveMetric ?? table.primary_metric ?? table.metrics[0] ?? null;
      this._update({ table, loops: this._sidebarLoops(), curveMetric, error: null });
      if (this._state.grouped) {
        await this._refreshGroups(name);
      }
      await this._refreshCurves(name);
      const open = this._state.openRun;
      if (open && this._state.detail?.run.status === 'running') {
        await this._loadDetail(name, open);
      }
    } catch (error) {
      this._update({ error: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  }

  setSort(column: string): void {
    const old = this._state.sort;
    const descending = old?.column === column ? !old.descending : column.startsWith('metric:');
    this._update({ sort: { column, descending } });
  }

  setFilter(change: Partial<IRunFilter>): void {
    this._update({ filter: { ...this._state.filter, ...change } });
  }

  setGrouped(grouped: boolean): void {
    this._update({ grouped });
    if (grouped) {
      void this._quiet(() => this._refreshGroups(this._state.experiment));
    }
  }

  /** The `hiddenColumns` setting; applied at once. */
  setHiddenColumns(names: readonly string[]): void {
    const old = this._state.hiddenColumns;
    if (old.length !== names.length || old.some((n, i) => n !== names[i])) {
      this._update({ hiddenColumns: [...names] });
    }
  }

  setCurveMetric(metric: string): void {
    this._update({ curveMetric: metric });
  }

  /** Tick or untick runs; ticked runs get their curves. */
  select(runIds: string[], on: boolean): void {
    const set = new Set(this._state.selection);
    runIds.forEach(id => (on ? set.add(id) : set.delete(id)));
    this._update({ selection: Array.from(set) });
    void this._quiet(() => this._refreshCurves(this._state.experiment));
  }

  clearSelection(): void {
    this._update({ selection: [] });
  }

  /** Open a run's page: its files, logs, error; its curve is drawn too. */
  async openRun(runId: string | null): Promise<void> {
    this._update({ openRun: runId, detail: null });
    const name = this._state.experiment;
    if (!name || !runId) {
      return;
    }
    await this._quiet(async () => {
      await this._loadDetail(name, runId);
      await this._refreshCurves(name);
    });
  }

  /** Show the diff of a loop's attempt. */
  async openAttempt(tag: string, n: number): Promise<void> {
    const name = this._state.experiment;
    if (!name) {
      return;
    }
    await this._quiet(async () => {
      const patch = await actions.attemptPatch(name, tag, n);
      this._update({ patch });
    });
  }

  closePatch(): void {
    this._update({ patch: null });
  }

  /** Leave the ticked runs out of every statistic, for one reason. Returns the runs that failed. */
  async ignoreSelected(reason: string): Promise<string[]> {
    const name = this._state.experiment;
    if (!name) {
      return [];
    }
    const failed: string[] = [];
    this._update({ busy: true });
    for (const runId of this._state.selection) {
      try {
        await actions.ignoreRun(name, runId, reason);
      } catch (error) {
        failed.push(`${runId}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    this._update({ busy: false, selection: [] });
    await this._quiet(() => this.refresh());
    await this.sidebar.refresh().catch(() => undefined);
    return failed;
  }

  /** The runs going, whose latest logged values the table shows (their run.json summary lags). */
  liveRuns(): string[] {
    const runs = this._state.table?.runs ?? [];
    return runs
      .filter(r => r.status === 'running')
      .slice(-MAX_LIVE_RUNS)
      .map(r => r.run_id);
  }

  /** The runs whose curves are drawn: the ticked ones, else the open one. */
  curveRuns(): string[] {
    const s = this._state;
    return s.selection.length > 0 ? s.selection : s.openRun ? [s.openRun] : [];
  }

  private async _loadDetail(name: string, runId: string): Promise<void> {
    const detail = await requestAPI<IRunDetail>(experimentPath(name, 'runs', runId));
    if (this._state.openRun === runId && this._state.experiment === name) {
      this._update({ detail });
    }
  }

  /** Read what each drawn curve's (and each running run's) file gained; a finished run read to its end is left alone. */
  private async _refreshCurves(name: string | null): Promise<void> {
    if (!name) {
      return;
    }
    for (const runId of new Set([...this.curveRuns(), ...this.liveRuns()])) {
      const known = this._state.curves[runId];
      const going = known?.status === 'running' || known?.status === 'unknown';
      if (known && !going && known.offset >= (known.size ?? 0) && !known.approximate) {
        continue;
      }
      const data = await this._readCurve(experimentPath(name, 'runs', runId, 'metrics'), known);
      if (name !== this._state.experiment) {
        return;
      }
      this._update({ curves: { ...this._state.curves, [runId]: data } });
    }
  }

  /**
   * A curve's new lines as logged, in chunks from where the last read stopped, while they fit in this poll's
   * reads and the curve stays short; else the whole curve sampled by the server, whose later lines are then
   * followed as logged until they are many (the server goes on from its last sample: it reads only new lines).
   */
  private async _readCurve(url: string, known: ICurveData | undefined): Promise<ICurveData> {
    if (known?.approximate) {
      // the server's first look at a long file: ask for its sample again until the server has read it exactly
      return sampledCurve(await requestAPI<IMetricChunk>(`${url}?offset=0&points=${SAMPLE_POINTS}`));
    }
    let data = known;
    for (let i = 1; i <= MAX_CHUNKS_PER_POLL; i++) {
      const chunk = await requestAPI<IMetricChunk>(`${url}?offset=${data?.offset ?? 0}`);
      data = mergeChunk(data, chunk);
      const rest = chunk.size - chunk.next_offset;
      const read = chunk.next_offset - chunk.offset;
      if (rest <= 0 || read <= 0) {
        // at the end, or a running run's last line half written (it waits for the next poll)
        if (!tooLong(data)) {
          return data;
        }
        break;
      }
      if (rest > read * (MAX_CHUNKS_PER_POLL - i) || tooLong(data)) {
        break; // the rest would not fit in this poll's reads, or the curve would be too long to hold whole
      }
    }
    return sampledCurve(await requestAPI<IMetricChunk>(`${url}?offset=0&points=${SAMPLE_POINTS}`));
  }

  /** The groups (stamped: an unchanged answer is the very object held, nothing re-renders). */
  private async _refreshGroups(name: string | null): Promise<void> {
    if (!name) {
      return;
    }
    const groups = await requestPolled<IGroupsAnswer>(experimentPath(name, 'table', 'groups'), this._state.groups);
    if (name === this._state.experiment) {
      this._update({ groups });
    }
  }

  private async _quiet(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      this._update({ error: error instanceof Error ? error.message : String(error) });
    }
  }

  private _sidebarLoops(): ILoop[] {
    return this.sidebar.state.loops?.loops ?? NO_LOOPS;
  }

  private _onSidebar = (): void => {
    const selected = this.sidebar.state.selected;
    if (selected === this._state.experiment) {
      this._update({ loops: this._sidebarLoops() }); // the same object while unchanged: no re-render
    } else {
      this._update({
        experiment: selected,
        table: null,
        groups: null,
        selection: [],
        openRun: null,
        detail: null,
        curves: {},
        curveMetric: null,
        loops: this._sidebarLoops(),
        patch: null,
        error: null
      });
      if (this._visible) {
        void this._quiet(() => this.refresh());
      }
    }
  };
}
