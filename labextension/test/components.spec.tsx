import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { IPanelProps, Panel } from '../src/components/Panel';
import { RunsTable } from '../src/components/RunsTable';
import { IExperimentDetail } from '../src/tokens';
import { detail, loops, patch, readyState, run } from './fixtures';

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

function props(change: Partial<IPanelProps> = {}): IPanelProps {
  return {
    state: readyState(),
    onSelect: jest.fn(),
    onRefresh: jest.fn(),
    onJournalQuery: jest.fn(),
    onAddEntry: jest.fn(() => Promise.resolve(true)),
    onIgnore: jest.fn(),
    onUnignore: jest.fn(),
    ...change
  };
}

function render(element: React.ReactElement) {
  act(() => root.render(element));
}

function q(selector: string, within: ParentNode = container): HTMLElement {
  const el = within.querySelector(selector);
  if (!el) {
    throw new Error(`nothing matches ${selector}`);
  }
  return el as HTMLElement;
}

function button(label: string, within: ParentNode = container): HTMLButtonElement {
  const found = Array.from(within.querySelectorAll('button')).find(b => b.textContent === label);
  if (!found) {
    throw new Error(`no button ${label}`);
  }
  return found;
}

describe('Panel', () => {
  it('shows the hypothesis card with statement, criterion, version and verdict', () => {
    render(<Panel {...props()} />);
    const card = q('.jp-mlexp-hypothesis');
    expect(card.textContent).toContain('Dropout 0.3 improves validation accuracy');
    expect(card.textContent).toContain('acc >= 0.9');
    expect(q('.jp-mlexp-version').textContent).toBe('v2');
    expect(q('.jp-mlexp-verdict').textContent).toBe('supported');
    expect(card.textContent).toContain('the lower bound 0.91 is above 0.9');
    // the latest run's check is labelled as a criterion check, apart from the verdict
    expect(q('.jp-mlexp-criterion-check').textContent).toContain('criterion check met');
    expect(q('.jp-mlexp-criterion-check').textContent).toContain('f-1');
  });

  it('never shows a single run\'s check under "Verdict"', () => {
    // an old server's per-run check in the verdict field: no verdict is shown, only the labelled check
    const old = { verdict: 'met', run_id: 'f-1', mode: 'full', metric: 'acc', value: 0.93 };
    const state = readyState({ detail: { ...detail, verdict: old as unknown as IExperimentDetail['verdict'] } });
    render(<Panel {...props({ state })} />);
    const terms = Array.from(container.querySelectorAll('.jp-mlexp-criteria dt')).map(e => e.textContent);
    expect(terms).not.toContain('Verdict');
    expect(container.querySelector('.jp-mlexp-verdict')).toBeNull();
    expect(q('.jp-mlexp-criterion-check').textContent).toContain('criterion check met');
  });

  it('shows the journal newest first with tags, and the experiment picker', () => {
    render(<Panel {...props()} />);
    const texts = Array.from(container.querySelectorAll('.jp-mlexp-entry-text')).map(e => e.textContent);
    expect(texts).toEqual(['loss spiked at step 40', 'Hypothesis v1']);
    expect(q('.jp-mlexp-tag-weird').textContent).toBe('WEIRD');
    const options = Array.from(container.querySelectorAll('#jp-mlexp-experiment option')).map(o => o.textContent);
    expect(options).toEqual(['demo', 'other']);
  });

  it('keeps quick and full runs apart, with status and primary metric', () => {
    render(<Panel {...props()} />);
    const full = Array.from(container.querySelectorAll('.jp-mlexp-runs-full [data-run-id]')).map(e =>
      e.getAttribute('data-run-id')
    );
    const quick = Array.from(container.querySelectorAll('.jp-mlexp-runs-quick [data-run-id]')).map(e =>
      e.getAttribute('data-run-id')
    );
    expect(full).toEqual(['f-1']);
    expect(quick).toEqual(['q-2', 'q-1']);
    const row = q('.jp-mlexp-runs-full [data-run-id="f-1"]');
    expect(row.textContent).toContain('completed');
    expect(row.textContent).toContain('0.93');
    expect(q('.jp-mlexp-runs-quick [data-run-id="q-1"]').className).toContain('jp-mlexp-run-ignored');
  });

  it('shows the configuration label the server sends, not one of its own (act=relu, not act="relu")', () => {
    const r = { ...run('f-9', 'full', 0.5), params: { act: 'relu' }, config: 'act=relu' };
    render(<Panel {...props({ state: readyState({ runs: { primary_metric: 'acc', runs: [r] } }) })} />);
    const title = q('[data-run-id="f-9"]').getAttribute('title') ?? '';
    expect(title).toContain('configuration: act=relu');
    expect(title).not.toContain('"relu"');
  });

  it('lists ignored runs with their reasons', () => {
    render(<Panel {...props()} />);
    const item = q('.jp-mlexp-ignored-run[data-run-id="q-1"]');
    expect(item.textContent).toContain('data loader bug');
  });

  it('sends actions through its callbacks', () => {
    const p = props();
    render(<Panel {...p} />);
    act(() => button('Ignore', q('[data-run-id="q-2"]')).click());
    expect(p.onIgnore).toHaveBeenCalledWith(expect.objectContaining({ run_id: 'q-2' }));
    act(() => button('Count again').click());
    expect(p.onUnignore).toHaveBeenCalledWith(expect.objectContaining({ run_id: 'q-1' }));
    const tagFilter = q('select[aria-label="Filter by tag"]') as HTMLSelectElement;
    act(() => {
      tagFilter.value = 'WEIRD';
      tagFilter.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(p.onJournalQuery).toHaveBeenCalledWith({ tag: 'WEIRD' });
    act(() => button('⟳').click());
    expect(p.onRefresh).toHaveBeenCalled();
  });

  it('adds a journal entry with its tag', async () => {
    const p = props();
    render(<Panel {...p} />);
    const box = q('textarea') as HTMLTextAreaElement;
    const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!;
    act(() => {
      setter.call(box, 'val loss flat');
      box.dispatchEvent(new Event('input', { bubbles: true }));
    });
    const tag = q('select[aria-label="Tag of the new entry"]') as HTMLSelectElement;
    act(() => {
      tag.value = 'TODO';
      tag.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await act(() => {
      button('Add entry').click();
      return Promise.resolve();
    });
    expect(p.onAddEntry).toHaveBeenCalledWith('val loss flat', ['TODO']);
    expect(box.value).toBe('');
  });

  it('offers the tags the state carries (the server list), not a list of its own', () => {
    render(<Panel {...props({ state: readyState({ entryTags: ['WEIRD', 'IDEA'] }) })} />);
    const options = Array.from(q('select[aria-label="Tag of the new entry"]').querySelectorAll('option'));
    expect(options.map(o => o.value)).toEqual(['', 'WEIRD', 'IDEA']);
  });

  it('offers no tag until the server has sent its list', () => {
    render(<Panel {...props({ state: readyState({ entryTags: [] }) })} />);
    const select = q('select[aria-label="Tag of the new entry"]') as HTMLSelectElement;
    expect(select.disabled).toBe(true);
    expect(Array.from(select.querySelectorAll('option')).map(o => o.value)).toEqual(['']);
  });

  it('cuts a long journal entry and shows all of it on demand', () => {
    const long = 'a'.repeat(300) + ' THE END';
    const state = readyState();
    const entry = { ...state.journal!.entries[0], text: long };
    render(<Panel {...props({ state: { ...state, journal: { ...state.journal!, entries: [entry] } } })} />);
    expect(q('.jp-mlexp-entry-text').textContent).not.toContain('THE END');
    act(() => button('Show all').click());
    expect(q('.jp-mlexp-entry-text').textContent).toContain('THE END');
    expect(q('.jp-mlexp-expand').getAttribute('aria-expanded')).toBe('true');
  });

  it('says when the server extension is missing', () => {
    render(
      <Panel
        {...props({
          state: readyState({
            status: 'missing-extension',
            error: 'The jupyter-mlexp server extension did not answer',
            detail: null,
            journal: null,
            runs: null,
            ignored: null
          })
        })}
      />
    );
    expect(q('[role="alert"]').textContent).toContain('Server extension not found');
    expect(container.querySelector('#jp-mlexp-experiment')).toBeNull();
  });

  it('says when a request failed but keeps the data', () => {
    render(<Panel {...props({ state: readyState({ status: 'error', error: 'boom (HTTP 500)' }) })} />);
    expect(q('[role="alert"]').textContent).toContain('boom (HTTP 500)');
    expect(q('.jp-mlexp-hypothesis')).toBeTruthy();
  });

  it('explains an empty workspace', () => {
    render(
      <Panel
        {...props({
          state: readyState({ experiments: [], selected: null, detail: null, journal: null, runs: null, ignored: null })
        })}
      />
    );
    expect(q('.jp-mlexp-empty').textContent).toContain('%%hypothesis NAME');
  });
});

describe('Loops in the sidebar', () => {
  it('is hidden while the experiment has no loop', () => {
    render(<Panel {...props({ state: readyState({ loops: { loops: [] } }) })} />);
    expect(container.querySelector('.jp-mlexp-sidebar-loops')).toBeNull();
    render(<Panel {...props()} />);
    expect(container.querySelector('.jp-mlexp-sidebar-loops')).toBeNull();
  });

  it('shows per loop its counts, the best so far with its commit, and the last attempts', () => {
    render(<Panel {...props({ state: readyState({ loops }) })} />);
    const loop = q('.jp-mlexp-sidebar-loops [data-loop="tune"]');
    expect(loop.textContent).toContain('tune');
    expect(q('.jp-mlexp-loop-counts', loop).textContent).toBe('3 keep · 3 discard · 1 crash');
    const best = q('.jp-mlexp-loop-best', loop).textContent ?? '';
    expect(best).toContain('0.271 ± 0.004');
    expect(best).toContain('c4abcde');
    const shown = Array.from(loop.querySelectorAll('[data-attempt]')).map(e => e.getAttribute('data-attempt'));
    expect(shown).toEqual(['6', '5', '4', '3', '2']); // the last five, newest first
    const crash = q('[data-attempt="3"]', loop);
    expect(crash.textContent).toContain('crash');
    expect(crash.textContent).toContain('ImportError');
  });

  it("opens an attempt's diff with a button (keyboard reachable) and shows it with the shared diff view", () => {
    const onOpenAttempt = jest.fn();
    const onClosePatch = jest.fn();
    render(<Panel {...props({ state: readyState({ loops }), onOpenAttempt, onClosePatch })} />);
    const open = q('[data-attempt="5"] button');
    expect(open.tagName).toBe('BUTTON');
    act(() => (open as HTMLButtonElement).click());
    expect(onOpenAttempt).toHaveBeenCalledWith('tune', 5);
    render(<Panel {...props({ state: readyState({ loops, patch }), onOpenAttempt, onClosePatch })} />);
    expect(q('.jp-mlexp-sidebar-loops .jp-mlexp-diff-add').textContent).toContain('+lr = 0.2');
    act(() => button('Close diff').click());
    expect(onClosePatch).toHaveBeenCalled();
  });
});

describe('RunsTable windowing', () => {
  it('renders only the rows in view of a thousand runs', () => {
    const many = {
      primary_metric: 'acc',
      runs: Array.from({ length: 1000 }, (_, i) => run(`r-${i}`, 'full', i / 1000))
    };
    render(<RunsTable runs={many} busy={false} onIgnore={jest.fn()} onUnignore={jest.fn()} />);
    const rows = container.querySelectorAll('.jp-mlexp-runs-full [data-run-id]');
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(40);
    expect(rows[0].getAttribute('data-run-id')).toBe('r-999'); // newest first

    const scroller = q('.jp-mlexp-runs-full .jp-mlexp-windowed');
    act(() => {
      scroller.scrollTop = 26 * 500;
      scroller.dispatchEvent(new Event('scroll'));
    });
    const ids = Array.from(container.querySelectorAll('.jp-mlexp-runs-full [data-run-id]')).map(e =>
      e.getAttribute('data-run-id')
    );
    expect(ids).toContain('r-499');
    expect(ids.length).toBeLessThan(40);
  });
});
