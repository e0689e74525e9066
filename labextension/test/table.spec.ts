import {
  cellText,
  columnsOf,
  differingParams,
  EMPTY_FILTER,
  filterRuns,
  formatStat,
  groupRuns,
  meanCurve,
  mergeChunk,
  sortRuns,
  stat
} from '../src/table';
import { IMetricChunk } from '../src/tokens';
import { runsGroups, runsTable } from './fixtures';

const ids = (runs: { run_id: string }[]) => runs.map(r => r.run_id);

describe('columns', () => {
  it('has one column per parameter and per metric', () => {
    const cols = columnsOf(runsTable).map(c => c.id);
    expect(cols).toEqual(expect.arrayContaining(['run_id', 'status', 'param:lr', 'metric:acc', 'metric:loss']));
  });

  it('puts the primary metric right after run and status, sized to content, so 1280 px show the metrics', () => {
    const cols = columnsOf(runsTable);
    expect(cols.slice(0, 4).map(c => c.id)).toEqual(['run_id', 'status', 'metric:acc', 'param:lr']);
    const width = (id: string, grouped = false) => columnsOf(runsTable, grouped).find(c => c.id === id)!.width;
    expect(width('run_id') + width('status')).toBeLessThan(240); // ids 'r-1', statuses 'completed · ignored'
    expect(width('status')).toBeGreaterThanOrEqual(16 + 'completed · ignored'.length * 7);
    // grouped, a metric holds "mean ± spread": wide enough for "0.2667 ± 0.01528"
    expect(width('metric:acc', true)).toBeGreaterThanOrEqual(16 + 16 * 7);
    const long = { ...runsTable, runs: [{ ...runsTable.runs[0], run_id: '20261122-023910-0ffeda' }] };
    expect(columnsOf(long)[0].width).toBeGreaterThanOrEqual(16 + 22 * 7);
  });
});

describe('sortRuns', () => {
  it('sorts by a metric either way, missing values last both ways', () => {
    const up = sortRuns(runsTable.runs, { column: 'metric:loss', descending: false });
    expect(ids(up)).toEqual(['r-2', 'r-1', 'r-4', 'r-3']);
    const down = sortRuns(runsTable.runs, { column: 'metric:loss', descending: true });
    expect(ids(down)).toEqual(['r-4', 'r-1', 'r-2', 'r-3']);
  });

  it('sorts text naturally and leaves the order alone without a sort', () => {
    expect(ids(sortRuns(runsTable.runs, { column: 'status', descending: false }))[3]).toBe('r-4');
    expect(sortRuns(runsTable.runs, null)).toBe(runsTable.runs);
  });
});

describe('filterRuns', () => {
  it('matches param=value exactly and other words anywhere', () => {
    expect(ids(filterRuns(runsTable.runs, { ...EMPTY_FILTER, text: 'lr=0.01' }))).toEqual(['r-3', 'r-4']);
    expect(ids(filterRuns(runsTable.runs, { ...EMPTY_FILTER, text: 'lr=0.1' }))).toEqual(['r-1', 'r-2']);
    expect(ids(filterRuns(runsTable.runs, { ...EMPTY_FILTER, text: 'NAN' }))).toEqual(['r-4']);
    expect(ids(filterRuns(runsTable.runs, { ...EMPTY_FILTER, text: 'r-2 lr=0.1' }))).toEqual(['r-2']);
  });

  it('filters by status and by ignored', () => {
    expect(ids(filterRuns(runsTable.runs, { ...EMPTY_FILTER, status: 'failed' }))).toEqual(['r-4']);
    expect(ids(filterRuns(runsTable.runs, { ...EMPTY_FILTER, ignored: 'counted' }))).toEqual(['r-1', 'r-2', 'r-3']);
    expect(ids(filterRuns(runsTable.runs, { ...EMPTY_FILTER, ignored: 'ignored' }))).toEqual(['r-4']);
  });
});

describe('groupRuns', () => {
  it("gives each configuration the server's mean ± sd over the runs the verdict counts", () => {
    const groups = groupRuns(runsTable.runs, ['acc', 'loss'], runsGroups);
    expect(groups.map(g => g.config)).toEqual(['lr=0.1', 'lr=0.01']);
    expect(groups[0].metrics.acc!.mean).toBeCloseTo(0.85);
    expect(groups[0].metrics.acc!.spread).toBeCloseTo(Math.sqrt(0.005));
    expect(groups[1].runs).toHaveLength(2);
    expect(groups[1].metrics.acc).toEqual({ mean: 0.7, spread: null, n: 1 }); // the ignored run left out
    expect(groups[1].metrics.loss).toBeNull();
    expect(formatStat(groups[0].metrics.acc)).toBe('0.85 ± 0.07071');
    expect(formatStat(null)).toBe('–');
    expect(groups.map(g => g.counted)).toEqual([2, 1]);
  });

  it("computes nothing itself: the numbers and the membership are the server's", () => {
    const copy = { ...runsTable.runs[1], run_id: 'r-2b' }; // seed 2 again: a copy the verdict does not count
    const quick = { ...runsTable.runs[0], run_id: 'q-1', config: 'lr=0.1, epochs=1' };
    const server = { ...runsGroups, members: { 'q-1': 'lr=0.1' } }; // counted under its configuration
    const groups = groupRuns([...runsTable.runs, copy, quick], ['acc'], server);
    expect(groups.map(g => [g.config, g.runs.length, g.counted])).toEqual([
      ['lr=0.1', 4, 2],
      ['lr=0.01', 2, 1]
    ]);
    expect(groups[0].metrics.acc!.mean).toBeCloseTo(0.85); // not the mean of the four rows
    expect(groupRuns(runsTable.runs, ['acc'])[0].metrics.acc).toBeNull(); // no server numbers: none shown
  });

  it('computes a sample spread', () => {
    expect(stat([1, 2, 3])).toEqual({ mean: 2, spread: 1, n: 3 });
    expect(stat([])).toBeNull();
  });
});

describe('curves', () => {
  const chunk = (series: IMetricChunk['series'], next: number, reset = false): IMetricChunk => ({
    run_id: 'r',
    status: 'running',
    series,
    offset: 0,
    next_offset: next,
    size: next,
    reset
  });

  it('appends what a chunk adds and starts over on a reset', () => {
    let data = mergeChunk(undefined, chunk({ loss: [[0, 1]] }, 10));
    data = mergeChunk(data, chunk({ loss: [[1, 0.5]], acc: [[1, 0.2]] }, 25));
    expect(data.series).toEqual({
      loss: [
        [0, 1],
        [1, 0.5]
      ],
      acc: [[1, 0.2]]
    });
    expect(data.offset).toBe(25);
    data = mergeChunk(data, chunk({ loss: [[0, 9]] }, 5, true));
    expect(data.series).toEqual({ loss: [[0, 9]] });
  });

  it('averages curves step by step with a ± band', () => {
    const band = meanCurve([
      [
        [0, 1],
        [1, 3]
      ],
      [
        [0, 3],
        [1, 3],
        [2, 4]
      ]
    ]);
    expect(band.map(b => b.step)).toEqual([0, 1, 2]);
    expect(band[0]).toEqual({ step: 0, mean: 2, lo: 2 - Math.SQRT2, hi: 2 + Math.SQRT2 });
    expect(band[2]).toEqual({ step: 2, mean: 4, lo: 4, hi: 4 });
  });
});

describe('compare', () => {
  it('marks the parameters that differ', () => {
    expect(differingParams(runsTable.runs.slice(0, 2), ['lr'])).toEqual(new Set());
    expect(differingParams(runsTable.runs.slice(1, 3), ['lr'])).toEqual(new Set(['lr']));
    expect(cellText({ a: 1 })).toBe('{"a":1}');
  });
});
