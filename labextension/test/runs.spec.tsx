import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { CurveChart, ICurve, plotData, pointsLabel, readout, thin } from '../src/components/CurveChart';
import { HypothesisCard } from '../src/components/HypothesisCard';
import { curvesOf, IRunsViewProps, RunsView } from '../src/components/RunsView';
import * as handler from '../src/handler';
import { MlexpModel } from '../src/model';
import { IRunsViewState, MAX_WHOLE_POINTS, RunsViewModel } from '../src/runsModel';
import { EMPTY_FILTER } from '../src/table';
import { IMetricChunk, IRunDetail } from '../src/tokens';
import { detail, experiments, ignored, journal, runs, runsGroups, runsTable } from './fixtures';
import FakePlot from './mocks/uplot';

jest.mock('../src/handler', () => ({ ...jest.requireActual('../src/handler'), requestAPI: jest.fn() }));
const requestAPI = handler.requestAPI as jest.Mock;

let container: HTMLDivElement;
let root: Root;

beforeEach(() => {
  container = document.createElement('div');
  document.body.appendChild(container);
  root = createRoot(container);
  requestAPI.mockReset();
});

afterEach(() => {
  act(() => root.unmount());
  container.remove();
});

function render(element: React.ReactElement) {
  act(() => root.render(element));
}

const runDetail: IRunDetail = {
  run: { ...runsTable.runs[3] },
  manifest: {},
  error: { name: 'ValueError', message: '<img src=x onerror=alert(1)> bad shape', traceback: 'Traceback ...' },
  files: [
    { name: 'output.ipynb', size: 2048 },
    { name: 'run.json', size: 300 }
  ],
  logs: { 'stdout.txt': 'epoch 1' },
  open_paths: { 'output.ipynb': 'experiments/demo/full/r-4/output.ipynb', 'run.json': null }
};

function viewState(change: Partial<IRunsViewState> = {}): IRunsViewState {
  return {
    experiment: 'demo',
    table: runsTable,
    error: null,
    sort: null,
    filter: EMPTY_FILTER,
    grouped: false,
    selection: [],
    openRun: null,
    detail: null,
    curveMetric: 'acc',
    curves: {},
    loops: [],
    patch: null,
    busy: false,
    hiddenColumns: [],
    groups: null,
    ...change
  };
}

function viewProps(change: Partial<IRunsViewProps> = {}): IRunsViewProps {
  return {
    state: viewState(),
    curveRuns: [],
    onSort: jest.fn(),
    onFilter: jest.fn(),
    onGrouped: jest.fn(),
    onSelect: jest.fn(),
    onClearSelection: jest.fn(),
    onOpenRun: jest.fn(),
    onIgnoreSelected: jest.fn(),
    onCurveMetric: jest.fn(),
    onOpenPath: jest.fn(),
    onOpenAttempt: jest.fn(),
    onClosePatch: jest.fn(),
    ...change
  };
}

describe('RunsView', () => {
  it('lists the runs with a column per parameter and metric; ignored runs are marked', () => {
    render(<RunsView {...viewProps()} />);
    const head = container.querySelector('.jp-mlexp-grid-head')!;
    expect(head.textContent).toContain('lr');
    expect(head.textContent).toContain('loss');
    const rows = container.querySelectorAll('.jp-mlexp-grid-run');
    expect(rows).toHaveLength(4);
    const ignoredRow = container.querySelector('[data-run-id="r-4"]')!;
    expect(ignoredRow.className).toContain('jp-mlexp-run-ignored');
    expect(ignoredRow.textContent).toContain('ignored');
  });

  it('sorts from a header button, opens a run on click or Enter, ticks on Space', () => {
    const props = viewProps();
    render(<RunsView {...props} />);
    act(() => (container.querySelector('button[title="Sort by acc"]') as HTMLElement).click());
    expect(props.onSort).toHaveBeenCalledWith('metric:acc');
    const row = container.querySelector('[data-run-id="r-2"]') as HTMLElement;
    act(() => row.click());
    expect(props.onOpenRun).toHaveBeenCalledWith('r-2');
    act(() => {
      row.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    });
    expect(props.onOpenRun).toHaveBeenCalledTimes(2);
    act(() => {
      row.dispatchEvent(new KeyboardEvent('keydown', { key: ' ', bubbles: true }));
    });
    expect(props.onSelect).toHaveBeenCalledWith(['r-2'], true);
    act(() => {
      row.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
    });
    expect(document.activeElement?.getAttribute('data-run-id')).toBe('r-3');
    act(() => {
      (document.activeElement as HTMLElement).dispatchEvent(
        new KeyboardEvent('keydown', { key: 'ArrowUp', bubbles: true })
      );
    });
    expect(document.activeElement?.getAttribute('data-run-id')).toBe('r-2');
  });

  it('is one tab stop: the rows roam with arrows, Home and End; checkboxes are not tab stops', () => {
    render(<RunsView {...viewProps()} />);
    const stops = () =>
      Array.from(container.querySelectorAll<HTMLElement>('.jp-mlexp-grid [tabindex="0"], .jp-mlexp-grid input')).filter(
        el => el.tabIndex >= 0
      );
    expect(stops().map(el => el.getAttribute('data-run-id'))).toEqual(['r-1']);
    const key = (key: string) =>
      act(() => {
        (document.activeElement as HTMLElement).dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }));
      });
    act(() => (container.querySelector('[data-run-id="r-1"]') as HTMLElement).focus());
    key('End');
    expect(document.activeElement?.getAttribute('data-run-id')).toBe('r-4');
    expect(stops().map(el => el.getAttribute('data-run-id'))).toEqual(['r-4']);
    key('Home');
    expect(document.activeElement?.getAttribute('data-run-id')).toBe('r-1');
  });

  it('keeps the focus when the focused row scrolls out of the drawn window, and gives it back when drawn again', () => {
    const many = Array.from({ length: 300 }, (_, i) => ({ ...runsTable.runs[0], run_id: `m-${i}` }));
    render(<RunsView {...viewProps({ state: viewState({ table: { ...runsTable, runs: many } }) })} />);
    const scroller = container.querySelector<HTMLElement>('.jp-mlexp-grid .jp-mlexp-windowed')!;
    const scrollTo = (top: number) =>
      act(() => {
        scroller.scrollTop = top;
        scroller.dispatchEvent(new Event('scroll'));
      });
    act(() => container.querySelector<HTMLElement>('[data-run-id="m-2"]')!.focus());
    scrollTo(28 * 200); // the wheel, not the keys: row 2 is no longer drawn
    expect(container.querySelector('[data-run-id="m-2"]')).toBeNull();
    expect(scroller.contains(document.activeElement)).toBe(true); // not lost to the page body
    scrollTo(0);
    expect(document.activeElement?.getAttribute('data-run-id')).toBe('m-2');
    act(() => {
      (document.activeElement as HTMLElement).dispatchEvent(
        new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true })
      );
    });
    expect(document.activeElement?.getAttribute('data-run-id')).toBe('m-3');
  });

  it('lets a configuration row be focused and ticked with Enter, to compare', () => {
    const props = viewProps({ state: viewState({ grouped: true, groups: runsGroups }) });
    render(<RunsView {...props} />);
    const group = container.querySelector<HTMLElement>('[data-config="lr=0.1"]')!;
    expect(group.tabIndex).toBe(0);
    act(() => group.focus());
    act(() => {
      group.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    });
    expect(props.onSelect).toHaveBeenCalledWith(['r-1', 'r-2'], true);
    act(() => {
      group.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
    });
    expect(document.activeElement?.getAttribute('data-config')).toBe('lr=0.01');
  });

  it("shows a running run's latest logged value, marked live, where its summary has none yet", () => {
    const going = { ...runsTable.runs[2], status: 'running', metrics: {} };
    const table = { ...runsTable, runs: [runsTable.runs[0], going] };
    const curves = {
      'r-3': {
        offset: 40,
        status: 'running',
        series: { acc: [[0, 0.5] as [number, number], [7, 0.61] as [number, number]] }
      }
    };
    render(<RunsView {...viewProps({ state: viewState({ table, curves }) })} />);
    const live = container.querySelector('[data-run-id="r-3"] .jp-mlexp-live')!;
    expect(live.textContent).toBe('0.61');
    expect(live.getAttribute('title')).toContain('step 7');
    expect(container.querySelector('[data-run-id="r-1"] .jp-mlexp-live')).toBeNull();
  });

  it('shows the sorted, filtered rows and the groups with mean ± spread', () => {
    const state = viewState({
      sort: { column: 'metric:acc', descending: true },
      filter: { ...EMPTY_FILTER, text: 'lr=0.1' }
    });
    render(<RunsView {...viewProps({ state })} />);
    const ids = Array.from(container.querySelectorAll('.jp-mlexp-grid-run')).map(r => r.getAttribute('data-run-id'));
    expect(ids).toEqual(['r-2', 'r-1']);
    expect(container.querySelector('[aria-sort="descending"]')!.textContent).toContain('acc');
    render(<RunsView {...viewProps({ state: viewState({ grouped: true, groups: runsGroups }) })} />);
    const group = container.querySelector('[data-config="lr=0.1"]')!;
    expect(group.textContent).toContain('2 runs');
    expect(group.textContent).toContain('0.85 ± 0.07071');
  });

  it("shows a failed run's error as text, and opens its notebook", () => {
    const props = viewProps({ state: viewState({ openRun: 'r-4', detail: runDetail }) });
    render(<RunsView {...props} />);
    const error = container.querySelector('.jp-mlexp-run-error')!;
    expect(error.textContent).toContain('ValueError: <img src=x onerror=alert(1)> bad shape');
    expect(error.querySelector('img')).toBeNull();
    const open = Array.from(container.querySelectorAll('button')).find(b => b.textContent === 'Open output.ipynb')!;
    act(() => open.click());
    expect(props.onOpenPath).toHaveBeenCalledWith('experiments/demo/full/r-4/output.ipynb');
  });

  it('compares ticked runs, marks differing parameters and draws their curves', () => {
    const curves = {
      'r-1': {
        offset: 10,
        status: 'completed',
        series: {
          acc: [
            [0, 0.5],
            [1, 0.8]
          ] as [number, number][]
        }
      },
      'r-3': { offset: 10, status: 'running', series: { acc: [[0, 0.4]] as [number, number][] } }
    };
    const state = viewState({ selection: ['r-1', 'r-3'], curves });
    render(<RunsView {...viewProps({ state, curveRuns: ['r-1', 'r-3'] })} />);
    expect(container.querySelector('.jp-mlexp-differs')!.textContent).toContain('lr');
    expect(container.querySelectorAll('.jp-mlexp-curves .jp-mlexp-legend-item')).toHaveLength(2);
    expect(container.querySelector('.jp-mlexp-selection')!.textContent).toContain('2 runs selected');
  });

  it('says which curves are a first look at a long file, even one whose metric the look missed', () => {
    const curves = {
      'r-1': {
        offset: 10,
        size: 10,
        status: 'completed',
        series: { loss: [[0, 0.5]] as [number, number][] },
        total: { loss: 1000000 },
        approximate: true
      },
      'r-3': { offset: 10, status: 'running', series: { acc: [[0, 0.4]] as [number, number][] } }
    };
    const state = viewState({ selection: ['r-1', 'r-3'], curves });
    render(<RunsView {...viewProps({ state, curveRuns: ['r-1', 'r-3'] })} />);
    expect(container.querySelectorAll('.jp-mlexp-curves .jp-mlexp-legend-item')).toHaveLength(1); // acc: r-3 only
    expect(container.querySelector('.jp-mlexp-first-look')!.textContent).toBe(
      'r-1: a first look at a long file, read in parts; the exact curve follows'
    );
    render(<RunsView {...viewProps({ state: viewState({ selection: ['r-3'], curves }), curveRuns: ['r-3'] })} />);
    expect(container.querySelector('.jp-mlexp-first-look')).toBeNull();
  });

  it('compares configurations when grouped: mean ± spread per configuration', () => {
    const state = viewState({ grouped: true, groups: runsGroups, selection: ['r-1', 'r-2', 'r-3'] });
    render(<RunsView {...viewProps({ state, curveRuns: ['r-1', 'r-2', 'r-3'] })} />);
    const compare = container.querySelector('.jp-mlexp-compare')!;
    expect(compare.querySelectorAll('thead th')).toHaveLength(3);
    expect(compare.textContent).toContain('full lr=0.1 (2)');
    expect(compare.textContent).toContain('0.85 ± 0.07071');
    expect(compare.querySelector('.jp-mlexp-differs')!.textContent).toContain('lr');
  });
});

describe('LoopView', () => {
  const attempt = (n: number, status: string, metric: number | null, best: number | null, hasPatch = true) => ({
    attempt: n,
    status,
    description: `change ${n}`,
    commit: `c${n}`,
    metric,
    sd: null,
    seeds: [0],
    delta: null,
    p: null,
    test: '',
    reason: status === 'discard' ? 'no better' : '',
    lines: [1, 1] as [number, number],
    duration_s: 1,
    running_best: best,
    has_patch: hasPatch
  });
  const loops = [
    {
      tag: 'tune',
      metric: 'acc',
      direction: 'higher is better',
      attempts: 3,
      best: { attempt: 1, mean: 0.8 },
      attempts_list: [
        attempt(0, 'keep', 0.7, 0.7, false),
        attempt(1, 'keep', 0.8, 0.8),
        attempt(2, 'discard', 0.75, 0.8)
      ]
    }
  ];

  it('lists attempts in order with status, metric, decision and running best; a diff opens on click', () => {
    const props = viewProps({ state: viewState({ loops }) });
    render(<RunsView {...props} />);
    const rows = Array.from(container.querySelectorAll('.jp-mlexp-loop-table tbody tr'));
    expect(rows.map(r => r.getAttribute('data-attempt'))).toEqual(['0', '1', '2']);
    expect(rows[2].textContent).toContain('discard');
    expect(rows[2].textContent).toContain('no better');
    expect(rows[2].textContent).toContain('0.8');
    expect(rows[0].querySelector('button')).toBeNull(); // the baseline has no diff
    act(() => (rows[1].querySelector('button') as HTMLElement).click());
    expect(props.onOpenAttempt).toHaveBeenCalledWith('tune', 1);
  });

  it('shows a diff as text, lines marked added or removed', () => {
    const patch = { tag: 'tune', attempt: 1, patch: '-width = 64\n+width = <b>128</b>', truncated: false };
    render(<RunsView {...viewProps({ state: viewState({ loops, patch }) })} />);
    expect(container.querySelector('.jp-mlexp-diff-del')!.textContent).toContain('-width = 64');
    expect(container.querySelector('.jp-mlexp-diff-add')!.textContent).toContain('+width = <b>128</b>');
    expect(container.querySelector('.jp-mlexp-diff b')).toBeNull();
  });
});

describe('CurveChart', () => {
  const a: ICurve = {
    label: 'a',
    points: [
      [0, 1],
      [1, 0.5]
    ],
    band: [
      { step: 0, lo: 0.9, hi: 1.1 },
      { step: 1, lo: 0.4, hi: 0.6 }
    ]
  };
  const b: ICurve = { label: 'b', points: [[0, 2]] };
  let width = 600;
  beforeAll(() => {
    Object.defineProperty(HTMLElement.prototype, 'clientWidth', { configurable: true, get: () => width });
  });
  afterAll(() => {
    delete (HTMLElement.prototype as unknown as { clientWidth?: number }).clientWidth;
  });
  beforeEach(() => {
    FakePlot.instances = [];
    width = 600;
  });

  it('draws with uPlot as wide as its panel, axes labelled, a band per configuration', () => {
    render(<CurveChart metric="loss" curves={[a, b]} />);
    expect(FakePlot.instances).toHaveLength(1);
    const plot = FakePlot.instances[0];
    expect(plot.width).toBe(600);
    const opts = plot.opts as unknown as { axes: { label: string }[]; bands: { series: number[] }[] };
    expect(opts.axes.map(x => x.label)).toEqual(['step', 'loss']);
    // one x for every step; a null where a curve has no point; the band's edges after the lines
    expect(plot.data).toEqual([
      [0, 1],
      [1, 0.5],
      [2, null],
      [1.1, 0.6],
      [0.9, 0.4]
    ]);
    expect(opts.bands.map(x => x.series)).toEqual([[3, 4]]);
    expect(container.querySelector('figcaption')!.textContent).toContain('a (2 points)');
    expect(container.querySelector('.jp-mlexp-chart')!.getAttribute('data-bands')).toBe('1');
    width = 900; // the panel grew
    act(() => (globalThis as unknown as { resizeCallbacks: (() => void)[] }).resizeCallbacks.forEach(f => f()));
    expect(FakePlot.instances[FakePlot.instances.length - 1].width).toBe(900);
    render(<CurveChart metric="loss" curves={[]} />);
    expect(container.textContent).toContain('No loss logged yet');
  });

  it("reads out step and each curve's value (± spread) under the cursor", () => {
    render(<CurveChart metric="loss" curves={[a, b]} />);
    act(() => FakePlot.instances[0].hover(1));
    expect(container.querySelector('.jp-mlexp-chart-readout')!.textContent).toBe('step 1 · a: 0.5 ± 0.1 · b: –');
    const plot = plotData([a, b]);
    expect(readout([a, b], plot, 0)).toBe('step 0 · a: 1 ± 0.1 · b: 2');
  });

  it("hands a live curve's new points to the same chart", () => {
    render(<CurveChart metric="loss" curves={[b]} />);
    const grown = { ...b, points: [...b.points, [1, 1.5] as [number, number]] };
    render(<CurveChart metric="loss" curves={[grown]} />);
    expect(FakePlot.instances).toHaveLength(1);
    expect(FakePlot.instances[0].setDataCalls).toBeGreaterThan(0);
    expect(FakePlot.instances[0].data).toEqual([
      [0, 1],
      [2, 1.5]
    ]);
  });

  it('says when a curve is a sample: the server sampled it, or it was thinned to draw', () => {
    const sample: ICurve = {
      label: 's',
      points: [
        [0, 1],
        [5, 0.5],
        [9, 0.2]
      ],
      total: 10000000
    };
    const long: ICurve = { label: 'l', points: Array.from({ length: 10000 }, (_, i) => [i, i] as [number, number]) };
    render(<CurveChart metric="loss" curves={[sample, long, b]} />);
    const legend = container.querySelector('figcaption')!.textContent!;
    expect(legend).toContain('s (sampled: 3 of 10000000 points)');
    expect(legend).toContain('l (sampled: 3334 of 10000 points)'); // thinned to draw: every third point
    expect(legend).toContain('b (1 point)');
    expect(pointsLabel({ label: 'x', points: [[0, 1]], total: 1 }, 1)).toBe('1 point');
    expect(pointsLabel({ ...sample, approximate: true }, 3)).toBe(
      'sampled: 3 of about 10000000 points, read in parts; the exact sample follows'
    );
  });

  it('thins long curves, keeping the last point', () => {
    const long = Array.from({ length: 100000 }, (_, i) => i);
    const thinned = thin(long, 1000);
    expect(thinned.length).toBeLessThanOrEqual(1001);
    expect(thinned[thinned.length - 1]).toBe(99999);
  });
});

describe('HypothesisCard', () => {
  it("shows the verdict engine's decision, reason, intervals and flags", () => {
    const verdict = {
      decision: 'not supported',
      reason: 'the upper bound 0.41 is above 0.3',
      mode: 'full',
      intervals: { 'lr=0.1': '(−∞, 0.41]' },
      flags: ['unequal numbers of seeds']
    };
    const onBuildReport = jest.fn();
    const check = { result: 'met', run_id: 'q-9', mode: 'quick', metric: 'acc', value: 0.95 };
    render(<HypothesisCard detail={{ ...detail, verdict, criterion_check: check }} onBuildReport={onBuildReport} />);
    expect(container.querySelector('.jp-mlexp-criterion-check')!.textContent).toContain('met');
    expect(container.querySelector('.jp-mlexp-criterion-check')!.textContent).toContain('acc = 0.95 in quick run q-9');
    const badge = container.querySelector('.jp-mlexp-verdict')!; // the verdict comes first
    expect(badge.textContent).toBe('not supported');
    expect(badge.className).toContain('jp-mlexp-verdict-not-supported');
    expect(container.textContent).toContain('the upper bound 0.41 is above 0.3');
    expect(container.textContent).toContain('lr=0.1: (−∞, 0.41]');
    expect(container.textContent).toContain('unequal numbers of seeds');
    const button = Array.from(container.querySelectorAll('button')).find(b => b.textContent === 'Build report')!;
    act(() => button.click());
    expect(onBuildReport).toHaveBeenCalled();
  });
});

describe('HypothesisCard verdict at a glance', () => {
  it("shows the server's headline, the forest from the server's numbers, and the reasoning folded", () => {
    const verdict = { decision: 'supported', reason: 'the lower bound 0.9512 is above 0.95', mode: 'full' };
    const headline = 'SUPPORTED · val_acc 0.9585, 95% CI [0.9512, ∞) vs >= 0.95 · n = 3 · alpha=0.0001';
    const forest = {
      metric: 'val_acc',
      relative: false,
      criterion: 'val_acc >= 0.95',
      threshold: 0.95,
      decision: 'supported',
      configurations: [row('alpha=0.0001', 0.9585, 0.9512, true), row('alpha=0.01', 0.9452, 0.9229, false)]
    };
    render(<HypothesisCard detail={{ ...detail, verdict, headline, forest }} />);
    const line = container.querySelector('.jp-mlexp-headline')!;
    expect(line.textContent).toBe('supported val_acc 0.9585, 95% CI [0.9512, ∞) vs >= 0.95 · n = 3 · alpha=0.0001');
    expect(line.getAttribute('title')).toBe(headline);
    const groups = container.querySelectorAll('.jp-mlexp-forest g');
    expect(groups).toHaveLength(2);
    expect(groups[0].getAttribute('class')).toBe('jp-mlexp-forest-subject');
    expect(groups[0].querySelector('title')!.textContent).toBe('alpha=0.0001: 0.9585 (n = 3, 97.5% bound 0.9512)');
    expect(container.querySelector('.jp-mlexp-forest-threshold')).not.toBeNull();
    const why = container.querySelector('details.jp-mlexp-verdict-why')!;
    expect(why.hasAttribute('open')).toBe(false);
    expect(why.textContent).toContain('the lower bound 0.9512 is above 0.95');
  });
});

describe('HypothesisCard on quick runs alone', () => {
  const quickSuggests = {
    decision: 'supported',
    reason: '`lr=0.1`: val_acc = 0.9617 (n = 3) meets `val_acc >= 0.95`',
    would_decide: null
  };
  const verdict = {
    decision: 'inconclusive',
    reason:
      'no full run counts yet, and quick, scaled-down runs ... cannot decide it; the quick runs suggest supported: ...',
    mode: 'quick',
    would_decide:
      'run the notebook (or script) of the quick runs full, on fresh seeds: `mlexp run --full --seeds fresh:3 ...`',
    quick_suggests: quickSuggests
  };
  const headline = 'INCONCLUSIVE (quick runs only) · val_acc 0.9617, 97.5% CI [0.9529, ∞) vs >= 0.95 · n = 3 · lr=0.1';

  it('keeps the decision inconclusive, says quick runs only, and shows the suggestion as a secondary line', () => {
    render(<HypothesisCard detail={{ ...detail, verdict, headline }} />);
    const line = container.querySelector('.jp-mlexp-headline')!;
    expect(line.textContent).toBe(
      'inconclusive quick runs only · val_acc 0.9617, 97.5% CI [0.9529, ∞) vs >= 0.95 · n = 3 · lr=0.1'
    );
    // one verdict badge on the card, and it is the decision
    const badges = container.querySelectorAll('.jp-mlexp-verdict');
    expect(badges).toHaveLength(1);
    expect(badges[0].className).toContain('jp-mlexp-verdict-inconclusive');
    const suggests = container.querySelector('.jp-mlexp-quick-suggests')!;
    expect(suggests.closest('details')).toBeNull(); // in view, not folded under "Why"
    expect(suggests.textContent).toMatch(/^Quick runs suggest: supported — /);
    expect(suggests.getAttribute('title')).toBe(quickSuggests.reason);
    const decide = container.querySelector('.jp-mlexp-quick-decide')!;
    expect(decide.closest('details')).toBeNull();
    expect(decide.textContent).toContain('full, on fresh seeds');
    expect(decide.querySelector('code')!.textContent).toBe('mlexp run --full --seeds fresh:3 ...');
    // said once: not again under "Why"
    expect(container.querySelector('details.jp-mlexp-verdict-why')!.textContent).not.toContain('fresh seeds');
  });

  it('shows no suggestion line when full runs decide', () => {
    const full = { decision: 'supported', reason: 'the lower bound is above 0.95', mode: 'full', would_decide: 'x' };
    render(<HypothesisCard detail={{ ...detail, verdict: full, headline: 'SUPPORTED · val_acc 0.96 · n = 3' }} />);
    expect(container.querySelector('.jp-mlexp-quick-suggests')).toBeNull();
    expect(container.querySelector('.jp-mlexp-quick-decide')).toBeNull();
    expect(container.querySelector('.jp-mlexp-verdict-qualifier')).toBeNull();
    expect(container.querySelector('.jp-mlexp-headline')!.textContent).toBe('supported val_acc 0.96 · n = 3');
  });
});

function row(configuration: string, estimate: number, bound: number, subject: boolean) {
  return {
    configuration,
    estimate,
    bound,
    bound_level: 0.975,
    bound_side: 'lower' as const,
    n: 3,
    values: [],
    subject,
    judged: true
  };
}

/** A fake server for the runs model. */
function serve(chunks: IMetricChunk[] = []) {
  const answers: { [path: string]: unknown } = {
    experiments,
    'experiments/demo': detail,
    'experiments/demo/journal': journal,
    'experiments/demo/runs': runs,
    'experiments/demo/ignored': ignored,
    'experiments/demo/table': runsTable,
    'experiments/demo/table/groups': runsGroups,
    'experiments/demo/runs/r-4': runDetail,
    'experiments/demo/loops': { loops: [{ tag: 'tune', attempts_list: [] }] },
    'experiments/demo/loops/tune/attempts/1/patch': { tag: 'tune', attempt: 1, patch: '+x', truncated: false }
  };
  requestAPI.mockImplementation((endPoint: string, init?: RequestInit) => {
    const path = endPoint.split('?')[0];
    if (path.endsWith('/metrics')) {
      return Promise.resolve(chunks.shift());
    }
    if (init?.method === 'POST') {
      return Promise.resolve(path.endsWith('/report') ? { report: 'report.ipynb', open_path: 'x/report.ipynb' } : {});
    }
    return answers[path] === undefined
      ? Promise.reject(new Error(`no fake for ${path}`))
      : Promise.resolve(answers[path]);
  });
}

function chunk(
  points: [number, number][],
  offset: number,
  next: number,
  size: number,
  status = 'running'
): IMetricChunk {
  return { run_id: 'r-4', status, series: { acc: points }, offset, next_offset: next, size, reset: false };
}

describe('RunsViewModel', () => {
  async function models() {
    const sidebar = new MlexpModel({ autoPoll: false });
    await sidebar.refresh();
    return { sidebar, model: new RunsViewModel(sidebar, { autoPoll: false }) };
  }

  it("loads the sidebar experiment's table and picks the primary metric for curves", async () => {
    serve();
    const { model } = await models();
    await model.refresh();
    expect(model.state.experiment).toBe('demo');
    expect(model.state.table?.runs).toHaveLength(4);
    expect(model.state.curveMetric).toBe('acc');
    expect(model.state.loops.map(l => l.tag)).toEqual(['tune']);
    await model.openAttempt('tune', 1);
    expect(model.state.patch?.patch).toBe('+x');
    model.closePatch();
    expect(model.state.patch).toBeNull();
  });

  it('asks for the groups only while the table is grouped', async () => {
    serve();
    const { model } = await models();
    await model.refresh();
    const groupCalls = () => requestAPI.mock.calls.map(c => c[0] as string).filter(p => p.includes('/groups'));
    expect(groupCalls()).toEqual([]); // the table alone: the first page is not held up by the grouping
    expect(model.state.groups).toBeNull();
    model.setGrouped(true);
    await model.refresh();
    expect(groupCalls().length).toBeGreaterThan(0);
    expect(model.state.groups?.groups.map(g => g.config)).toEqual(['lr=0.1', 'lr=0.01']);
  });

  it("takes the loops from the sidebar's poll: one request per endpoint while the sidebar is shown", async () => {
    serve();
    const { sidebar, model } = await models();
    sidebar.visible = true; // its own poll reads the loops
    requestAPI.mockClear();
    await model.refresh();
    const loopCalls = () => requestAPI.mock.calls.map(c => c[0] as string).filter(p => p.includes('/loops'));
    expect(loopCalls()).toEqual([]);
    expect(model.state.loops).toBe(sidebar.state.loops?.loops); // the very object: nothing re-renders
    sidebar.visible = false; // hidden: the runs view asks through the sidebar's model, with its stamp
    requestAPI.mockClear();
    await model.refresh();
    expect(loopCalls()).toEqual(['experiments/demo/loops']);
    expect(model.state.loops.map(l => l.tag)).toEqual(['tune']);
    sidebar.dispose();
  });

  it('reads a curve from where it stopped, in chunks, and again only while the run is going', async () => {
    serve([chunk([[0, 0.1]], 0, 10, 20), chunk([[1, 0.2]], 10, 20, 20), chunk([[2, 0.3]], 20, 30, 30, 'completed')]);
    const { model } = await models();
    await model.refresh();
    await model.openRun('r-4');
    expect(model.state.detail?.error?.name).toBe('ValueError');
    expect(model.state.curves['r-4'].series.acc).toEqual([
      [0, 0.1],
      [1, 0.2]
    ]);
    await model.refresh();
    expect(model.state.curves['r-4'].series.acc).toHaveLength(3);
    const metricCalls = () => requestAPI.mock.calls.map(c => c[0] as string).filter(p => p.includes('/metrics'));
    expect(metricCalls()).toEqual([
      'experiments/demo/runs/r-4/metrics?offset=0',
      'experiments/demo/runs/r-4/metrics?offset=10',
      'experiments/demo/runs/r-4/metrics?offset=20'
    ]);
    await model.refresh(); // completed and read to the end: no more reads
    expect(metricCalls()).toHaveLength(3);
  });

  const metricCalls = () => requestAPI.mock.calls.map(c => c[0] as string).filter(p => p.includes('/metrics'));

  /** The server's sampled answer: the whole file, `total` points logged, `points` of them served. */
  function sample(points: [number, number][], total: number, size: number, status = 'completed'): IMetricChunk {
    return { ...chunk(points, 0, size, size, status), sampled: points.length < total, points: { acc: total } };
  }

  it("asks for a long finished run's curve sampled, and says how many points it has in all", async () => {
    // 4 MiB read of 400 MiB: the rest would take 99 more reads, more than a poll makes
    const first = chunk([[0, 0.1]], 0, 4 << 20, 400 << 20, 'completed');
    const sampled = sample(
      [
        [0, 0.1],
        [5000000, 0.9],
        [9999999, 0.5]
      ],
      10000000,
      400 << 20
    );
    serve([first, sampled]);
    const { model } = await models();
    await model.refresh();
    await model.openRun('r-4');
    expect(metricCalls()).toEqual([
      'experiments/demo/runs/r-4/metrics?offset=0',
      'experiments/demo/runs/r-4/metrics?offset=0&points=4000'
    ]);
    const curve = model.state.curves['r-4'];
    expect(curve.series.acc).toEqual(sampled.series.acc);
    expect(curve.total).toEqual({ acc: 10000000 });
    expect(curvesOf(model.state, ['r-4'])).toEqual([{ label: 'r-4', points: sampled.series.acc, total: 10000000 }]);
    await model.refresh(); // finished and read to its end: left alone
    expect(metricCalls()).toHaveLength(2);
  });

  it("asks a long curve's sample again while the server's answer is a first look, then leaves it alone", async () => {
    const first = chunk([[0, 0.1]], 0, 4 << 20, 400 << 20, 'completed');
    const look = {
      ...sample(
        [
          [0, 0.1],
          [9999999, 0.5]
        ],
        9990000,
        400 << 20
      ),
      approximate: true
    };
    const exact = sample(
      [
        [0, 0.1],
        [5000000, 0.9],
        [9999999, 0.5]
      ],
      10000000,
      400 << 20
    );
    serve([first, look, exact]);
    const { model } = await models();
    await model.refresh();
    await model.openRun('r-4');
    expect(model.state.curves['r-4'].approximate).toBe(true);
    expect(curvesOf(model.state, ['r-4'])).toEqual([
      { label: 'r-4', points: look.series.acc, total: 9990000, approximate: true }
    ]);
    await model.refresh(); // finished and read to its end, but only looked at: its sample again, nothing else
    expect(metricCalls()).toEqual([
      'experiments/demo/runs/r-4/metrics?offset=0',
      'experiments/demo/runs/r-4/metrics?offset=0&points=4000',
      'experiments/demo/runs/r-4/metrics?offset=0&points=4000'
    ]);
    expect(model.state.curves['r-4'].approximate).toBeUndefined();
    expect(curvesOf(model.state, ['r-4'])).toEqual([{ label: 'r-4', points: exact.series.acc, total: 10000000 }]);
    await model.refresh(); // exact and read to its end: left alone
    expect(metricCalls()).toHaveLength(3);
  });

  it("reads a finished curve as logged when it fits in one poll's reads, and sampled when it does not", async () => {
    // 20 reads of 10 bytes: a 200-byte file is read whole in one poll, a 201-byte one would need a 21st read
    const reads = (size: number) =>
      Array.from({ length: 20 }, (_, i) => chunk([[i, i / 100]], i * 10, i * 10 + 10, size, 'completed'));
    serve(reads(200));
    let { model } = await models();
    await model.refresh();
    await model.openRun('r-4');
    expect(metricCalls()).toHaveLength(20);
    expect(model.state.curves['r-4'].series.acc).toHaveLength(20);
    expect(model.state.curves['r-4'].total).toBeUndefined();

    requestAPI.mockReset();
    const sampled = sample(
      [
        [0, 0],
        [20, 0.2]
      ],
      21,
      201
    );
    serve([reads(201)[0], sampled]); // the fake answers in order: the sample comes second
    ({ model } = await models());
    await model.refresh();
    await model.openRun('r-4');
    expect(metricCalls()).toEqual([
      'experiments/demo/runs/r-4/metrics?offset=0',
      'experiments/demo/runs/r-4/metrics?offset=0&points=4000'
    ]);
    expect(model.state.curves['r-4'].series.acc).toEqual(sampled.series.acc);
    expect(model.state.curves['r-4'].total).toEqual({ acc: 21 });
  });

  it('holds a growing curve sampled once a metric has more points than it holds whole', async () => {
    const steps = (from: number, n: number) => Array.from({ length: n }, (_, i) => [from + i, 0.5] as [number, number]);
    const sampled = sample(
      [
        [0, 0.5],
        [MAX_WHOLE_POINTS, 0.5]
      ],
      MAX_WHOLE_POINTS + 1,
      2000,
      'running'
    );
    serve([
      chunk(steps(0, MAX_WHOLE_POINTS), 0, 1000, 1000),
      chunk(steps(MAX_WHOLE_POINTS, 1), 1000, 2000, 2000),
      sampled
    ]);
    const { model } = await models();
    await model.refresh();
    await model.openRun('r-4');
    expect(model.state.curves['r-4'].total).toBeUndefined(); // as logged: at the limit, not past it
    await model.refresh();
    expect(metricCalls().slice(1)).toEqual([
      'experiments/demo/runs/r-4/metrics?offset=1000',
      'experiments/demo/runs/r-4/metrics?offset=0&points=4000'
    ]);
    expect(model.state.curves['r-4'].series.acc).toHaveLength(2);
    expect(model.state.curves['r-4'].total).toEqual({ acc: MAX_WHOLE_POINTS + 1 });
  });

  it("follows a sampled running run's new lines, and asks for a fresh sample once they are many", async () => {
    const first = chunk([[0, 0.1]], 0, 4 << 20, 400 << 20);
    const sampled = sample(
      [
        [0, 0.1],
        [9999999, 0.5]
      ],
      10000000,
      400 << 20,
      'running'
    );
    const next = chunk(
      [
        [10000000, 0.4],
        [10000001, 0.3]
      ],
      400 << 20,
      (400 << 20) + 40,
      (400 << 20) + 40
    );
    const many = Array.from({ length: 4001 }, (_, i) => [10000002 + i, 0.2] as [number, number]);
    const burst = chunk(many, (400 << 20) + 40, (401 << 20) + 40, (401 << 20) + 40);
    const fresh = sample(
      [
        [0, 0.1],
        [10004002, 0.2]
      ],
      10004003,
      (401 << 20) + 40,
      'running'
    );
    serve([first, sampled, next, burst, fresh]);
    const { model } = await models();
    await model.refresh();
    await model.openRun('r-4');
    await model.refresh(); // the two new lines, as logged, after the sample
    let curve = model.state.curves['r-4'];
    expect(curve.series.acc).toEqual([...sampled.series.acc, ...next.series.acc]);
    expect(curve.total).toEqual({ acc: 10000002 });
    expect(metricCalls()[2]).toBe(`experiments/demo/runs/r-4/metrics?offset=${400 << 20}`);
    await model.refresh(); // 4001 new lines: more than a sample holds, so a fresh sample replaces them
    expect(metricCalls().slice(3)).toEqual([
      `experiments/demo/runs/r-4/metrics?offset=${(400 << 20) + 40}`,
      'experiments/demo/runs/r-4/metrics?offset=0&points=4000'
    ]);
    curve = model.state.curves['r-4'];
    expect(curve.series.acc).toEqual(fresh.series.acc);
    expect(curve.total).toEqual({ acc: 10004003 });
  });

  it('keeps a short curve as logged, without a total', async () => {
    serve([chunk([[0, 0.1]], 0, 10, 20, 'completed'), chunk([[1, 0.2]], 10, 20, 20, 'completed')]);
    const { model } = await models();
    await model.refresh();
    await model.openRun('r-4');
    expect(metricCalls()).toEqual([
      'experiments/demo/runs/r-4/metrics?offset=0',
      'experiments/demo/runs/r-4/metrics?offset=10'
    ]);
    expect(model.state.curves['r-4'].total).toBeUndefined();
    expect(curvesOf(model.state, ['r-4'])).toEqual([
      {
        label: 'r-4',
        points: [
          [0, 0.1],
          [1, 0.2]
        ]
      }
    ]);
  });

  it('sorts (metrics best first), selects, and ignores the ticked runs with one reason', async () => {
    serve([]);
    const { model } = await models();
    model.setSort('metric:acc');
    expect(model.state.sort).toEqual({ column: 'metric:acc', descending: true });
    model.setSort('metric:acc');
    expect(model.state.sort?.descending).toBe(false);
    requestAPI.mockClear();
    model.select(['r-1', 'r-2'], true);
    expect(model.curveRuns()).toEqual(['r-1', 'r-2']);
    serve([]);
    const failed = await model.ignoreSelected('bad split');
    expect(failed).toEqual([]);
    const posts = requestAPI.mock.calls.filter(c => c[1]?.method === 'POST');
    expect(posts.map(c => [c[0], c[1].body])).toEqual([
      ['experiments/demo/runs/r-1/ignore', JSON.stringify({ reason: 'bad split' })],
      ['experiments/demo/runs/r-2/ignore', JSON.stringify({ reason: 'bad split' })]
    ]);
    expect(model.state.selection).toEqual([]);
  });

  it("reads a running run's new metric lines for the table even when no curve is drawn", async () => {
    serve([chunk([[3, 0.4]], 0, 10, 10)]);
    const going = { ...runsTable.runs[3], status: 'running' };
    const base = requestAPI.getMockImplementation()!;
    requestAPI.mockImplementation((endPoint: string, init?: RequestInit) =>
      endPoint === 'experiments/demo/table'
        ? Promise.resolve({ ...runsTable, runs: [...runsTable.runs.slice(0, 3), going] })
        : base(endPoint, init)
    );
    const { model } = await models();
    await model.refresh();
    expect(model.curveRuns()).toEqual([]);
    expect(model.state.curves['r-4'].series.acc).toEqual([[3, 0.4]]);
  });

  it('polls with the stamp it holds and keeps its state (no re-render) while the server says unchanged', async () => {
    serve();
    const stamped = { ...runsTable, stamp: 's1' };
    const sidebarRuns = { ...runs, stamp: 'r1' };
    const sidebarDetail = { ...detail, stamp: 'd1' };
    const base = requestAPI.getMockImplementation()!;
    requestAPI.mockImplementation((endPoint: string, init?: RequestInit) => {
      const [path, query] = endPoint.split('?');
      const fresh = {
        'experiments/demo/table': stamped,
        'experiments/demo/runs': sidebarRuns,
        'experiments/demo': sidebarDetail
      }[path];
      if (fresh) {
        const since = new URLSearchParams(query ?? '').get('since');
        return Promise.resolve(since === fresh.stamp ? { unchanged: true, stamp: since } : fresh);
      }
      return base(endPoint, init);
    });
    const { sidebar, model } = await models();
    await model.refresh();
    const table = model.state.table;
    const sidebarState = sidebar.state;
    let emitted = 0;
    model.stateChanged.connect(() => emitted++);
    sidebar.stateChanged.connect(() => emitted++);
    requestAPI.mockClear();
    await model.refresh();
    await sidebar.refresh();
    const asked = requestAPI.mock.calls.map(c => c[0] as string);
    expect(asked).toContain('experiments/demo/table?since=s1');
    expect(asked).toContain('experiments/demo/runs?since=r1');
    expect(asked).toContain('experiments/demo?since=d1');
    expect(model.state.table).toBe(table);
    expect(sidebar.state).toBe(sidebarState);
    expect(emitted).toBe(0);
  });

  it('builds the report through the sidebar model', async () => {
    serve();
    const { sidebar } = await models();
    expect(await sidebar.buildReport()).toEqual({ report: 'report.ipynb', open_path: 'x/report.ipynb' });
  });
});
