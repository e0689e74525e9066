import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';

import { MlexpModel } from './model';
import { MlexpSidebar } from './sidebar';

const OPEN_COMMAND = 'jupyter-mlexp:open';

/** Adds the Experiments panel to the left sidebar. */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlexp:sidebar',
  description: 'A sidebar with the hypothesis, journal, runs and ignored runs of an experiment.',
  autoStart: true,
  optional: [ILayoutRestorer, ICommandPalette],
  activate: (app: JupyterFrontEnd, restorer: ILayoutRestorer | null, palette: ICommandPalette | null) => {
    const sidebar = new MlexpSidebar(new MlexpModel());
    app.shell.add(sidebar, 'left', { rank: 600 });
    restorer?.add(sidebar, sidebar.id);
    app.commands.addCommand(OPEN_COMMAND, {
      label: 'Show the Experiments Sidebar',
      execute: () => app.shell.activateById(sidebar.id)
    });
    palette?.addItem({ command: OPEN_COMMAND, category: 'Experiments' });
  }
};

export default plugin;
