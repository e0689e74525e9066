import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { ClassView, IClassViewProps } from '../src/classview/ClassView';
import { arrange, ClassViewModel, classEndpoint, IClassViewState } from '../src/classview/model';
import { CourseFields } from '../src/components/CourseFields';
import { HypothesisCard } from '../src/components/HypothesisCard';
import * as handler from '../src/handler';
import { CLASS_ANSWER as ANSWER, CLASS_ROWS as ROWS, detail } from './fixtures';

jest.mock('../src/handler', () => ({ ...jest.requireActual('../src/handler'), requestAPI: jest.fn() }));
const requestAPI = handler.requestAPI as jest.Mock;

describe('ClassViewModel', () => {
  let model: ClassViewModel;
  beforeEach(() => {
    requestAPI.mockReset();
    model = new ClassViewModel('teaching/ml101-class', { autoPoll: false });
  });
  afterEach(() => model.dispose());

  it('asks the class endpoint for its folder and holds the rows, sorted by student', async () => {
    requestAPI.mockResolvedValue(ANSWER);
    await model.refresh();
    expect(requestAPI).toHaveBeenCalledWith('class?dir=teaching%2Fml101-class');
    expect(model.state.status).toBe('ready');
    expect(model.state.rows.map(r => r.student)).toEqual([
      '<b>mallory</b>',
      'loosened',
      'proper',
      'quickonly',
      'reordered'
    ]);
  });

  it('sorts by a column, and the same column again reverses it', async () => {
    requestAPI.mockResolvedValue(ANSWER);
    await model.refresh();
    model.setSort('flags');
    expect(model.state.rows.map(r => r.flags.length)).toEqual([0, 1, 1, 1, 2]);
    model.setSort('flags');
    expect(model.state.sort).toEqual({ column: 'flags', descending: true });
    expect(model.state.rows[0].student).toBe('<b>mallory</b>');
    model.setSort('verdict');
    expect(model.state.rows.map(r => r.verdict)).toEqual([
      'supported',
      'supported',
      'supported',
      'inconclusive',
      'inconclusive'
    ]);
  });

  it('filters by a flag; the same flag again shows every row', async () => {
    requestAPI.mockResolvedValue(ANSWER);
    await model.refresh();
    model.setFlag('record altered');
    expect(model.state.rows.map(r => r.student)).toEqual(['reordered']);
    model.setFlag('record altered');
    expect(model.state.flag).toBeNull();
    expect(model.state.rows).toHaveLength(5);
  });

  it('keeps a flag filter across a refresh only while some row still carries the flag', async () => {
    requestAPI.mockResolvedValue(ANSWER);
    await model.refresh();
    model.setFlag('no full runs');
    const fixed = { ...ANSWER, flags: { 'record altered': 1 }, rows: ROWS.map(r => ({ ...r, flags: [] })) };
    requestAPI.mockResolvedValue(fixed);
    await model.refresh();
    expect(model.state.flag).toBeNull();
    expect(model.state.rows).toHaveLength(5);
  });

  it('opens and closes a row', () => {
    model.toggle('proper/warmup');
    expect(model.state.open).toBe('proper/warmup');
    model.toggle('proper/warmup');
    expect(model.state.open).toBeNull();
  });

  it('states a server error and rejects, so the poll backs off; the rows held stay', async () => {
    requestAPI.mockResolvedValue(ANSWER);
    await model.refresh();
    requestAPI.mockRejectedValue(new handler.RequestError("'x' is not a class workspace (HTTP 404)", 404));
    await expect(model.refresh()).rejects.toThrow('not a class workspace');
    expect(model.state.status).toBe('error');
    expect(model.state.error).toMatch(/not a class workspace/);
    expect(model.state.rows).toHaveLength(5);
  });

  it('names the report files relative to the server root', () => {
    expect(model.reportPath('class_table.csv')).toBe('teaching/ml101-class/class_table.csv');
    const top = new ClassViewModel('.', { autoPoll: false });
    expect(top.reportPath('class_table.csv')).toBe('class_table.csv');
    top.dispose();
  });

  it('encodes the folder as one query value', () => {
    expect(classEndpoint('a b/c&d=e')).toBe('class?dir=a%20b%2Fc%26d%3De');
    expect(arrange(ROWS, { column: 'student', descending: true }, null)[0].student).toBe('reordered');
  });
});

describe('ClassView', () => {
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

  function state(change: Partial<IClassViewState> = {}): IClassViewState {
    return {
      dir: 'teaching/ml101-class',
      status: 'ready',
      error: null,
      data: ANSWER,
      sort: { column: 'student', descending: false },
      flag: null,
      rows: arrange(ROWS, { column: 'student', descending: false }, null),
      open: null,
      ...change
    };
  }

  function render(change: Partial<IClassViewProps> = {}) {
    const props: IClassViewProps = {
      state: state(),
      onSort: jest.fn(),
      onFlag: jest.fn(),
      onToggle: jest.fn(),
      onRefresh: jest.fn(),
      onOpenReport: jest.fn(),
      ...change
    };
    act(() => root.render(<ClassView {...props} />));
    return props;
  }

  function rowOf(student: string): HTMLElement {
    const el = Array.from(container.querySelectorAll('tr.jp-mlexp-class-row')).find(
      tr => (tr as HTMLElement).dataset.student === student
    );
    if (!el) {
      throw new Error(`no row for ${student}`);
    }
    return el as HTMLElement;
  }

  it('shows one row per student with the verdict, n, runs and flags, and the course', () => {
    render();
    expect(container.querySelectorAll('tr.jp-mlexp-class-row')).toHaveLength(5);
    const loosened = rowOf('loosened');
    expect(loosened.textContent).toContain('supported');
    expect(loosened.textContent).toContain('lr=0.1 [full]: n=3');
    expect(loosened.querySelector('.jp-mlexp-class-flag')?.textContent).toBe('changed after runs');
    expect(rowOf('reordered').textContent).toContain('unverified');
    expect(rowOf('quickonly').textContent).toContain('0 full · 4 quick · 1 failed');
    expect(rowOf('proper').querySelector('.jp-mlexp-class-flags')?.textContent).toBe('none');
    expect(container.querySelector('.jp-mlexp-class-course')?.textContent).toBe(
      'Course ml101: metric val_acc, baseline lr=0.1, seeds 3, budget 60 s'
    );
    expect(container.textContent).toContain('collection 2');
    expect(container.textContent).toContain('read-only');
  });

  it('renders the record as text, never as HTML', () => {
    render({ state: state({ open: '<b>mallory</b>/warmup' }) });
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('script')).toBeNull();
    expect(container.querySelector('b')).toBeNull();
    expect(rowOf('<b>mallory</b>').textContent).toContain('<b>mallory</b>');
    const details = container.querySelector('.jp-mlexp-class-details')!;
    expect(details.textContent).toContain('<img src=x onerror="window.pwned=1">');
    expect(details.textContent).toContain('r1: <script>window.pwned=1</script>');
    expect((window as unknown as { pwned?: number }).pwned).toBeUndefined();
  });

  it('opens a row to what its flags rest on', () => {
    const props = render({ state: state({ open: 'loosened/warmup' }) });
    const details = container.querySelector('.jp-mlexp-class-details')!;
    expect(details.textContent).toContain('Changed after runs');
    expect(details.textContent).toContain('criterion loosened after 3 runs');
    expect(details.textContent).toContain('Under the first version: not supported');
    act(() => rowOf('proper').click());
    expect(props.onToggle).toHaveBeenCalledWith('proper/warmup');
  });

  it('sorts on a header click, filters on a flag, opens a report, refreshes', () => {
    const props = render();
    const headers = Array.from(container.querySelectorAll<HTMLButtonElement>('th button'));
    act(() => headers.find(b => b.textContent?.startsWith('Verdict'))!.click());
    expect(props.onSort).toHaveBeenCalledWith('verdict');
    const chip = Array.from(container.querySelectorAll<HTMLButtonElement>('button.jp-mlexp-class-filter')).find(
      b => b.textContent === 'record altered 1'
    )!;
    act(() => chip.click());
    expect(props.onFlag).toHaveBeenCalledWith('record altered');
    const buttons = Array.from(container.querySelectorAll<HTMLButtonElement>('button'));
    act(() => buttons.find(b => b.textContent === 'Open class_table.csv')!.click());
    expect(props.onOpenReport).toHaveBeenCalledWith('class_table.csv');
    act(() => buttons.find(b => b.textContent === 'Refresh')!.click());
    expect(props.onRefresh).toHaveBeenCalled();
    expect(container.querySelector('th[aria-sort="ascending"]')?.textContent).toContain('Student');
  });

  it('says why there is nothing to show', () => {
    render({ state: state({ data: null, status: 'error', error: "'x' is not a class workspace" }) });
    expect(container.querySelector('[role="alert"]')?.textContent).toBe("'x' is not a class workspace");
  });

  it('shows the course in the hypothesis card, read-only', () => {
    const course = {
      course: 'ml101',
      metric: 'acc',
      baseline: 'lr=0.1',
      seeds: [0, 1, 2],
      budget: 60,
      file: 'course.yaml'
    };
    act(() => root.render(<HypothesisCard detail={{ ...detail, course }} />));
    const el = container.querySelector('.jp-mlexp-hypothesis .jp-mlexp-course')!;
    expect(el.textContent).toBe('Course ml101: metric acc, baseline lr=0.1, seeds 0, 1, 2, budget 60 s');
    expect(el.querySelector('input, textarea, button')).toBeNull();
    // before the first registration too: the fields the hypothesis must keep
    act(() => root.render(<HypothesisCard detail={{ ...detail, hypothesis: null, verdict: null, course }} />));
    expect(container.querySelector('.jp-mlexp-course')?.textContent).toContain('metric acc');
    act(() => root.render(<HypothesisCard detail={{ ...detail, course: null }} />));
    expect(container.querySelector('.jp-mlexp-course')).toBeNull();
    act(() => root.render(<CourseFields course={{ file: 'course.yaml', error: 'course.yaml is not valid YAML' }} />));
    expect(container.textContent).toContain('cannot be read: course.yaml is not valid YAML');
  });
});
