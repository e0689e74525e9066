import * as handler from '../src/handler';
import { MlexpModel } from '../src/model';
import { DEFAULT_SETTINGS, readSettings } from '../src/settings';
import { columnsOf, visibleColumns } from '../src/table';
import { detail, experiments, ignored, journal, runs, runsTable } from './fixtures';

jest.mock('../src/handler', () => ({ ...jest.requireActual('../src/handler'), requestAPI: jest.fn() }));
const requestAPI = handler.requestAPI as jest.Mock;

describe('settings', () => {
  it('reads the composite, and a bad value falls back to its default', () => {
    expect(readSettings({})).toEqual(DEFAULT_SETTINGS);
    expect(readSettings({ pollInterval: 10, defaultExperiment: ' other ', hiddenColumns: ['lr', 3] })).toEqual({
      pollInterval: 10,
      defaultExperiment: 'other',
      hiddenColumns: ['lr']
    });
    expect(readSettings({ pollInterval: 0 }).pollInterval).toBe(4);
    expect(readSettings({ pollInterval: 'x' }).pollInterval).toBe(4);
    expect(readSettings({ pollInterval: 1e9 }).pollInterval).toBe(600);
  });

  it('hides runs table columns by name, never the first one', () => {
    const all = columnsOf(runsTable).map(c => c.id);
    const shown = visibleColumns(columnsOf(runsTable), ['lr', 'loss', 'seed', 'duration', 'run']).map(c => c.id);
    expect(all).toEqual(expect.arrayContaining(['param:lr', 'metric:loss', 'seed', 'duration_s']));
    expect(shown).not.toEqual(expect.arrayContaining(['param:lr']));
    expect(shown.filter(id => ['param:lr', 'metric:loss', 'seed', 'duration_s'].includes(id))).toEqual([]);
    expect(shown[0]).toBe('run_id');
    expect(shown).toContain('metric:acc');
    expect(visibleColumns(columnsOf(runsTable), [])).toHaveLength(all.length);
  });

  it('shows the default experiment when nothing else is chosen', async () => {
    const answers: { [path: string]: unknown } = {
      experiments,
      'experiments/demo': detail,
      'experiments/demo/runs': runs,
      'experiments/demo/ignored': ignored,
      'experiments/other': { ...detail, name: 'other' },
      'experiments/other/runs': { primary_metric: 'acc', runs: [] },
      'experiments/other/ignored': { ignored: [], warnings: [] }
    };
    requestAPI.mockImplementation((endPoint: string) => {
      const path = endPoint.split('?')[0];
      return path.endsWith('/journal') || path.endsWith('/loops')
        ? Promise.resolve(path.endsWith('/journal') ? journal : { loops: [] })
        : Promise.resolve(answers[path]);
    });
    const first = new MlexpModel({ autoPoll: false });
    await first.refresh();
    expect(first.state.selected).toBe('demo'); // no setting: the first one
    const model = new MlexpModel({ autoPoll: false });
    model.setDefaultExperiment('other');
    await model.refresh();
    expect(model.state.selected).toBe('other');
    const unknown = new MlexpModel({ autoPoll: false });
    unknown.setDefaultExperiment('gone');
    await unknown.refresh();
    expect(unknown.state.selected).toBe('demo'); // a default that does not exist is passed over
    [first, model, unknown].forEach(m => m.dispose());
  });
});
