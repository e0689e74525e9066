import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator } from '@jupyterlab/translation';

import { registerClassView } from './classview/command';
import { hasSession, KernelFollower, kernelOf } from './follow';
import { MlexpModel } from './model';
import { MlexpRunsPanel } from './runsPanel';
import { RunsViewModel } from './runsModel';
import { DEFAULT_SETTINGS, IMlexpSettings, readSettings } from './settings';
import { MlexpSidebar } from './sidebar';
import { bundleOf } from './trans';

const OPEN_COMMAND = 'jupyter-mlexp:open';
const OPEN_RUNS_COMMAND = 'jupyter-mlexp:open-runs';

/** Adds the Experiments panel to the left sidebar and the runs table to the main area. */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlexp:sidebar',
  description: 'A sidebar with the hypothesis, journal, runs and ignored runs of an experiment, and a runs table.',
  autoStart: true,
  optional: [ILayoutRestorer, ICommandPalette, ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ) => {
    const trans = bundleOf(translator);
    // Follow the notebook (or console) last active in the main area: its kernel's current experiment.
    // The kernel tells its experiment over a comm; nothing runs in the user's kernel.
    let lastWithKernel: unknown = null;
    const follower = new KernelFollower(kernel => {
      if (kernel === kernelOf(lastWithKernel)) {
        model.refresh().catch(() => undefined); // follow at once, not at the next poll
      }
    });
    app.shell.currentChanged?.connect((_, change) => {
      if (hasSession(change.newValue)) {
        lastWithKernel = change.newValue;
        follower.experimentOf(kernelOf(lastWithKernel));
      }
    });
    const model = new MlexpModel({
      askKernel: () => Promise.resolve(follower.experimentOf(kernelOf(lastWithKernel)))
    });
    const openPath = (path: string) => void app.commands.execute('docmanager:open', { path });
    // A run's files are its record: its output.ipynb opens as JupyterLab's "Notebook (no kernel)" does,
    // so looking at a run never starts (or reuses) a kernel.
    const openRunFile = (path: string) =>
      void app.commands.execute('docmanager:open', {
        path,
        kernelPreference: { shouldStart: false, shouldReuse: false, autoStartDefault: false }
      });
    let runsPanel: MlexpRunsPanel | null = null;
    let onRunsModel: (m: RunsViewModel) => void = () => undefined;

    const openRuns = (runId?: string) => {
      if (!runsPanel || runsPanel.isDisposed) {
        const runsModel = new RunsViewModel(model);
        onRunsModel(runsModel);
        runsPanel = new MlexpRunsPanel(runsModel, openRunFile, trans);
        app.shell.add(runsPanel, 'main');
      }
      app.shell.activateById(runsPanel.id);
      if (runId) {
        void runsPanel.model.openRun(runId);
      }
    };

    const sidebar = new MlexpSidebar(model, { openRuns, openPath }, trans);
    app.shell.add(sidebar, 'left', { rank: 600 });
    restorer?.add(sidebar, sidebar.id);
    app.commands.addCommand(OPEN_COMMAND, {
      label: trans.__('Show the Experiments Sidebar'),
      execute: () => app.shell.activateById(sidebar.id)
    });
    app.commands.addCommand(OPEN_RUNS_COMMAND, {
      label: trans.__('Open the Runs Table'),
      execute: () => openRuns()
    });
    // The Settings Editor's "Experiments" page, applied as it changes.
    const runsModels = new Set<RunsViewModel>();
    let current: IMlexpSettings = DEFAULT_SETTINGS;
    const apply = (settings: IMlexpSettings) => {
      current = settings;
      model.setInterval(settings.pollInterval * 1000);
      model.setDefaultExperiment(settings.defaultExperiment);
      runsModels.forEach(m => {
        if (m.isDisposed) {
          runsModels.delete(m);
        } else {
          m.setInterval(settings.pollInterval * 1000);
          m.setHiddenColumns(settings.hiddenColumns);
        }
      });
    };
    onRunsModel = m => {
      runsModels.add(m);
      apply(current);
    };
    if (settingRegistry) {
      settingRegistry
        .load(plugin.id)
        .then(settings => {
          apply(readSettings(settings.composite));
          settings.changed.connect(() => apply(readSettings(settings.composite)));
        })
        .catch(reason => console.warn('jupyter-mlexp: settings not loaded, using the defaults', reason));
    }
    palette?.addItem({ command: OPEN_COMMAND, category: trans.__('Experiments') });
    palette?.addItem({ command: OPEN_RUNS_COMMAND, category: trans.__('Experiments') });
    // The instructor's view of a collected class (src/classview/).
    registerClassView(app, palette, openPath, trans);
  }
};

export default plugin;
