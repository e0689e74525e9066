import * as handler from '../src/handler';
import { MlexpModel } from '../src/model';
import { detail, ENTRY_TAGS, experiments, ignored, journal, loops, patch, runs } from './fixtures';

jest.mock('../src/handler', () => ({ ...jest.requireActual('../src/handler'), requestAPI: jest.fn() }));
const requestAPI = handler.requestAPI as jest.Mock;

/** A fake server: answers by path, records what was asked. */
function serve(overrides: { [path: string]: unknown } = {}) {
  const answers: { [path: string]: unknown } = {
    experiments,
    'experiments/demo': detail,
    'experiments/demo/runs': runs,
    'experiments/demo/ignored': ignored,
    'experiments/demo/loops': loops,
    'experiments/demo/loops/tune/attempts/5/patch': patch,
    'experiments/other/loops': { stamp: 'l0', loops: [] },
    'experiments/other': { ...detail, name: 'other' },
    'experiments/other/runs': { primary_metric: 'acc', runs: [] },
    'experiments/other/ignored': { ignored: [], warnings: [] },
    ...overrides
  };
  requestAPI.mockImplementation((endPoint: string) => {
    const path = endPoint.split('?')[0];
    const answer = path.endsWith('/journal') && !(path in overrides) ? journal : answers[path];
    if (answer instanceof Error) {
      return Promise.reject(answer);
    }
    if (answer === undefined) {
      return Promise.reject(new handler.RequestError(`no fake for ${path}`, 404));
    }
    return Promise.resolve(answer);
  });
}

function calls(): string[] {
  return requestAPI.mock.calls.map(c => c[0]);
}

let model: MlexpModel;
beforeEach(() => {
  requestAPI.mockReset();
  model = new MlexpModel({ autoPoll: false });
});
afterEach(() => model.dispose());

describe('MlexpModel', () => {
  it('loads the experiment list and the first experiment record', async () => {
    serve();
    const seen: string[] = [];
    model.stateChanged.connect((_, s) => seen.push(s.status));
    await model.refresh();
    const s = model.state;
    expect(s.status).toBe('ready');
    expect(s.selected).toBe('demo');
    expect(s.detail?.hypothesis?.statement).toMatch(/Dropout/);
    expect(s.journal?.entries).toHaveLength(2);
    expect(s.runs?.runs).toHaveLength(3);
    expect(s.ignored?.ignored[0].reason).toBe('data loader bug');
    expect(seen).toContain('ready');
    expect(calls()).toContain('experiments/demo/journal?offset=0&limit=50');
  });

  it("polls the loops stamped, like the runs, and fetches an attempt's diff on demand", async () => {
    serve();
    await model.refresh();
    const held = model.state.loops;
    expect(held?.loops.map(l => l.tag)).toEqual(['tune']);
    serve({ 'experiments/demo/loops': { unchanged: true, stamp: 'l1' } });
    await model.refresh();
    expect(calls()).toContain('experiments/demo/loops?since=l1');
    expect(model.state.loops).toBe(held); // the very object: nothing re-renders
    await model.openAttempt('tune', 5);
    expect(model.state.patch?.patch).toContain('+lr = 0.2');
    model.closePatch();
    expect(model.state.patch).toBeNull();
    await model.openAttempt('tune', 5);
    await model.select('other');
    expect(model.state.patch).toBeNull();
    expect(model.state.loops?.loops).toEqual([]);
  });

  it('keeps the sidebar up when the loops cannot be read (an older server)', async () => {
    serve({ 'experiments/demo/loops': new handler.RequestError('Not Found', 404) });
    await model.refresh();
    expect(model.state.status).toBe('ready');
    expect(model.state.loops).toBeNull();
  });

  it('says the server extension is missing on a bare 404, and rejects so the poll backs off', async () => {
    requestAPI.mockRejectedValue(new handler.ServerExtensionMissingError('http://x/mlexp/api/experiments'));
    await expect(model.refresh()).rejects.toBeInstanceOf(handler.ServerExtensionMissingError);
    expect(model.state.status).toBe('missing-extension');
    expect(model.state.error).toMatch(/server extension/);
  });

  it('keeps the data shown after a failed refresh and clears the error on the next success', async () => {
    serve();
    await model.refresh();
    requestAPI.mockRejectedValueOnce(new handler.RequestError('boom (HTTP 500)', 500));
    await expect(model.refresh()).rejects.toThrow('boom');
    expect(model.state.status).toBe('error');
    expect(model.state.runs?.runs).toHaveLength(3);
    await model.refresh();
    expect(model.state.error).toBeNull();
  });

  it('selects another experiment and starts its journal at the newest entry', async () => {
    serve();
    await model.refresh();
    await model.setJournalQuery({ offset: 50 });
    await model.select('other');
    expect(model.state.selected).toBe('other');
    expect(model.state.journalQuery.offset).toBe(0);
    expect(calls()).toContain('experiments/other/runs');
  });

  it('filters the journal by tag and text, back to the first page', async () => {
    serve();
    await model.refresh();
    await model.setJournalQuery({ offset: 50 });
    await model.setJournalQuery({ tag: 'WEIRD', q: 'loss spike' });
    expect(model.state.journalQuery).toEqual({ tag: 'WEIRD', q: 'loss spike', offset: 0, limit: 50 });
    expect(calls()).toContain('experiments/demo/journal?tag=WEIRD&q=loss+spike&offset=0&limit=50');
  });

  it('ignores a run with its reason, then refreshes', async () => {
    serve({ 'experiments/demo/runs/q-2/ignore': { ignored: {} } });
    await model.refresh();
    requestAPI.mockClear();
    expect(await model.ignoreRun('q-2', 'wrong split')).toBe(true);
    const [endPoint, init] = requestAPI.mock.calls[0];
    expect(endPoint).toBe('experiments/demo/runs/q-2/ignore');
    expect(init).toEqual({ method: 'POST', body: JSON.stringify({ reason: 'wrong split' }) });
    expect(calls()).toContain('experiments/demo/ignored');
    expect(model.state.busy).toBe(false);
    expect(model.state.error).toBeNull();
  });

  it('unignores and adds journal entries through the API', async () => {
    serve({ 'experiments/demo/runs/q-1/unignore': {}, 'experiments/demo/journal': journal });
    await model.refresh();
    expect(await model.unignoreRun('q-1')).toBe(true);
    expect(await model.addJournalEntry('val loss flat', ['TODO'])).toBe(true);
    const post = requestAPI.mock.calls.find(c => c[0] === 'experiments/demo/journal');
    expect(post?.[1]).toEqual({ method: 'POST', body: JSON.stringify({ text: 'val loss flat', tags: ['TODO'] }) });
    expect(await model.addJournalEntry('   ')).toBe(false);
  });

  it('puts a failed action in the state', async () => {
    serve({ 'experiments/demo/runs/q-2/ignore': new handler.RequestError('say why (HTTP 422)', 422) });
    await model.refresh();
    expect(await model.ignoreRun('q-2', 'x')).toBe(false);
    expect(model.state.error).toBe('say why (HTTP 422)');
    expect(model.state.busy).toBe(false);
  });

  it('offers no tags of its own: none until the server sends its list, then the server list', async () => {
    expect(model.state.entryTags).toEqual([]);
    serve({ 'experiments/demo/journal': { ...journal, entry_tags: undefined } });
    await model.refresh();
    expect(model.state.entryTags).toEqual([]);
    serve();
    await model.refresh();
    expect(model.state.entryTags).toEqual(ENTRY_TAGS);
    serve({ 'experiments/demo/journal': { ...journal, entry_tags: ['WEIRD', 'IDEA'] } });
    await model.refresh();
    expect(model.state.entryTags).toEqual(['WEIRD', 'IDEA']);
  });

  it('drops a refresh that finished after the user picked another experiment', async () => {
    serve();
    await model.refresh();
    let release: () => void = () => undefined;
    const gate = new Promise<void>(resolve => (release = resolve));
    const original = requestAPI.getMockImplementation()!;
    requestAPI.mockImplementation(async (endPoint: string, init?: RequestInit) => {
      if (endPoint === 'experiments/demo') {
        await gate;
      }
      return original(endPoint, init);
    });
    const slow = model.refresh();
    await model.select('other');
    release();
    await slow;
    expect(model.state.selected).toBe('other');
    expect(model.state.detail?.name).toBe('other');
  });
});

describe('MlexpModel polling', () => {
  const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

  it('does not poll while hidden, polls once visible and backs off after failures', async () => {
    requestAPI.mockRejectedValue(new handler.RequestError('down (HTTP 503)', 503));
    const polled = new MlexpModel({ interval: 20, maxInterval: 1000 });
    try {
      await sleep(120);
      expect(requestAPI).not.toHaveBeenCalled();
      polled.visible = true;
      await sleep(400);
      const n = requestAPI.mock.calls.filter(c => c[0] === 'experiments').length;
      expect(n).toBeGreaterThanOrEqual(2);
      // with a fixed 20 ms interval there would be about 20 calls by now
      expect(n).toBeLessThan(12);
      expect(polled.state.status).toBe('error');
    } finally {
      polled.dispose();
    }
  });
});
