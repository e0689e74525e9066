import type { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { ClassView } from '../src/classview/ClassView';
import { arrange, IClassViewState } from '../src/classview/model';
import { CourseFields } from '../src/components/CourseFields';
import { IPanelProps, Panel } from '../src/components/Panel';
import { IRunsViewProps, RunsView } from '../src/components/RunsView';
import { IRunsViewState } from '../src/runsModel';
import { ICourseInForce } from '../src/tokens';
import { EMPTY_FILTER } from '../src/table';
import { bundleOf, DOMAIN, english, TransContext } from '../src/trans';
import { CLASS_ANSWER, classRow, loops, patch, readyState, runsGroups, runsTable } from './fixtures';

/** A language in which every translatable string is upper case; what the server sent keeps its case. */
const upper: TranslationBundle = {
  ...english,
  __: (msgid: string, ...args: unknown[]) => english.__(msgid.toUpperCase(), ...args),
  _n: (msgid: string, plural: string, n: number, ...args: unknown[]) =>
    english._n(msgid.toUpperCase(), plural.toUpperCase(), n, ...args)
};

function fakeTranslator(): ITranslator & { domains: string[] } {
  const domains: string[] = [];
  return {
    domains,
    languageCode: 'xx',
    load: (domain: string) => {
      domains.push(domain);
      return upper;
    }
  };
}

let container: HTMLDivElement;
let root: Root;

beforeEach(() => {
  container = document.createElement('div');
  document.body.appendChild(container);
  root = createRoot(container);
});

afterEach(() => {
  act(() => root.unmount());
  container.remove();
});

function render(element: React.ReactElement, bundle: TranslationBundle) {
  act(() => root.render(<TransContext.Provider value={bundle}>{element}</TransContext.Provider>));
}

function panelProps(): IPanelProps {
  return {
    state: readyState({ loops, patch }),
    onSelect: jest.fn(),
    onRefresh: jest.fn(),
    onJournalQuery: jest.fn(),
    onAddEntry: jest.fn(() => Promise.resolve(true)),
    onIgnore: jest.fn(),
    onUnignore: jest.fn(),
    onOpenRuns: jest.fn(),
    onBuildReport: jest.fn()
  };
}

function viewProps(change: Partial<IRunsViewState> = {}): IRunsViewProps {
  const state: IRunsViewState = {
    experiment: 'demo',
    table: runsTable,
    error: null,
    sort: null,
    filter: EMPTY_FILTER,
    grouped: false,
    selection: ['r-1', 'r-3'],
    openRun: null,
    detail: null,
    curveMetric: 'acc',
    curves: {},
    loops: loops.loops,
    patch,
    busy: false,
    hiddenColumns: [],
    groups: null,
    ...change
  };
  return {
    state,
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
    onClosePatch: jest.fn()
  };
}

/** Every word a person reads: text, placeholders, tooltips and the labels screen readers say. */
function shownWords(): string[] {
  const texts: string[] = [];
  const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    texts.push(walker.currentNode.textContent ?? '');
  }
  container.querySelectorAll('[placeholder], [title], [aria-label]').forEach(el => {
    for (const name of ['placeholder', 'title', 'aria-label']) {
      texts.push(el.getAttribute(name) ?? '');
    }
  });
  return texts.join(' ').match(/[a-z]{3,}/g) ?? [];
}

/** Lower-case words shown that the data handed in does not contain: English the translator never saw. */
function untranslated(data: unknown): string[] {
  const known = JSON.stringify(data).toLowerCase();
  return Array.from(new Set(shownWords().filter(w => !known.includes(w))));
}

/** The values in `data` (its keys left out: a key such as `metric` must not vouch for a label). */
function valuesOf(data: unknown): unknown[] {
  if (Array.isArray(data)) {
    return data.flatMap(valuesOf);
  }
  return data !== null && typeof data === 'object' ? Object.values(data).flatMap(valuesOf) : [data];
}

function classState(change: Partial<IClassViewState> = {}): IClassViewState {
  const rows = [
    ...CLASS_ANSWER.rows,
    classRow('terse', { ignored: [{ run_id: 'r9', reason: '' }], runs: { quick: 0, full: 3, failed: 1, ignored: 1 } })
  ];
  const data = { ...CLASS_ANSWER, verdicts: { ...CLASS_ANSWER.verdicts, '': 1 }, rows };
  return {
    dir: data.dir,
    status: 'ready',
    error: null,
    data,
    sort: { column: 'student', descending: false },
    flag: 'record altered',
    rows: arrange(rows, { column: 'student', descending: false }, null),
    open: 'terse/warmup',
    ...change
  };
}

const classHandlers = {
  onSort: jest.fn(),
  onFlag: jest.fn(),
  onToggle: jest.fn(),
  onRefresh: jest.fn(),
  onOpenReport: jest.fn()
};

describe('translation', () => {
  it("loads this package's domain from JupyterLab's translator, English without one", () => {
    const translator = fakeTranslator();
    expect(bundleOf(translator)).toBe(upper);
    expect(translator.domains).toEqual([DOMAIN]);
    expect(DOMAIN).toBe('jupyter_mlexp');
    expect(bundleOf(null)).toBe(english);
    expect(english.__('%1 of %2 shown', 3, 10)).toBe('3 of 10 shown');
    expect(english._n('%1 run selected', '%1 runs selected', 1)).toBe('1 run selected');
    expect(english._n('%1 run selected', '%1 runs selected', 2)).toBe('2 runs selected');
    expect(english.__('%1%% bound', 97.5)).toBe('97.5% bound');
  });

  it("draws the sidebar in the translator's language, and the server's text as it came", () => {
    const props = panelProps();
    render(<Panel {...props} />, bundleOf(fakeTranslator()));
    const text = container.textContent ?? '';
    for (const word of ['EXPERIMENTS', 'JOURNAL', 'ADD ENTRY', 'BUILD REPORT', 'SUCCESS', 'FULL RUNS', 'LOOPS']) {
      expect(text).toContain(word);
    }
    expect(text).toContain('3 KEEP · 3 DISCARD · 1 CRASH');
    // The hypothesis, the verdict and the journal are the record's words: never translated.
    expect(text).toContain('Dropout 0.3 improves validation accuracy');
    expect(text).toContain('loss spiked at step 40');
    expect(text).not.toContain('Journal');
    expect(untranslated(props.state)).toEqual([]);
  });

  it("draws the runs table in the translator's language, plurals included", () => {
    const props = viewProps();
    render(<RunsView {...props} />, upper);
    const text = container.textContent ?? '';
    expect(text).toContain('2 RUNS SELECTED');
    expect(text).toContain('IGNORE SELECTED…');
    expect(text).toContain('7 ATTEMPTS');
    expect(untranslated(props.state)).toEqual([]);
  });

  it("draws a run's page, the grouped table and the curves in the translator's language", () => {
    const detail = {
      run: { ...runsTable.runs[3] },
      manifest: {},
      error: { name: 'ValueError', message: 'bad shape', traceback: 'Traceback ...', cell: 2 },
      files: [{ name: 'output.ipynb', size: 2048 }],
      logs: { 'stdout.txt': 'epoch 1' },
      open_paths: { 'output.ipynb': 'experiments/demo/full/r-4/output.ipynb' }
    };
    const curves = { 'r-1': { series: { acc: [[0, 0.5] as [number, number]] }, offset: 0, status: 'completed' } };
    const changes: Partial<IRunsViewState>[] = [
      { openRun: 'r-4', detail },
      { grouped: true, groups: runsGroups, curves }
    ];
    for (const change of changes) {
      const props = { ...viewProps(change), curveRuns: ['r-1', 'r-3'] };
      render(<RunsView {...props} />, upper);
      expect(untranslated(props.state)).toEqual([]);
    }
    expect(container.textContent).toContain('HOVER THE CHART');
  });

  it("draws the class view in the translator's language, the students' records as they came", () => {
    const states = [
      classState(),
      classState({ open: 'loosened/warmup', sort: { column: 'flags', descending: true }, flag: null }),
      classState({ open: '<b>mallory</b>/warmup' }),
      classState({ data: null, status: 'loading' }),
      classState({ data: null, status: 'error', error: "'x' is not a class workspace" })
    ];
    for (const state of states) {
      render(<ClassView state={state} {...classHandlers} />, upper);
      expect(untranslated(valuesOf(state))).toEqual([]);
    }
    render(<ClassView state={states[0]} {...classHandlers} />, upper);
    const text = container.textContent ?? '';
    for (const word of ['STUDENT', 'AUDIT FLAGS', 'READ-ONLY', 'REFRESH', 'HYPOTHESIS', '(NO REASON)', 'NO VERDICT']) {
      expect(text).toContain(word);
    }
    expect(text).toContain('Warm-up raises validation accuracy on digits.'); // a student's words
    expect(text).toContain('class_table.csv');
  });

  it("draws a course's locked fields in the translator's language", () => {
    const courses: ICourseInForce[] = [
      CLASS_ANSWER.course!,
      { course: 'ml101', success: 'val_acc >= 0.9', seeds: [0, 1, 2], data: { 'digits.csv': 'ab12' }, file: 'c.yaml' },
      { file: 'course.yaml' },
      { file: 'course.yaml', error: 'course.yaml is not valid YAML' }
    ];
    for (const course of courses) {
      render(<CourseFields course={course} />, upper);
      expect(untranslated([valuesOf(course), Object.keys(course.data ?? {})])).toEqual([]); // data files: named by keys
    }
    render(<CourseFields course={courses[0]} />, upper);
    expect(container.textContent).toBe('COURSE ml101: METRIC val_acc, BASELINE lr=0.1, SEEDS 3, BUDGET 60 S');
  });

  it('says the same in English without a translator', () => {
    const props = viewProps();
    act(() => root.render(<RunsView {...props} />));
    expect(container.textContent).toContain('2 runs selected');
    expect(untranslated(props.state)).not.toEqual([]);
  });
});
