import { JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';

import { english } from '../trans';
import { ClassViewModel } from './model';
import { askClassFolder, ClassViewPanel } from './panel';

export const OPEN_CLASS_COMMAND = 'jupyter-mlexp:open-class';

/** "Open Class View" (args: `{path}`, a class workspace relative to the server root): one panel per folder. */
export function registerClassView(
  app: JupyterFrontEnd,
  palette: ICommandPalette | null,
  openPath: (path: string) => void,
  trans: TranslationBundle = english
): void {
  const panels = new Map<string, ClassViewPanel>();
  app.commands.addCommand(OPEN_CLASS_COMMAND, {
    label: trans.__('Open Class View'),
    caption: trans.__('A collected class, read-only: one row per student, the audit flags, the verdict with n'),
    execute: async args => {
      const dir = await askClassFolder(args.path, trans);
      if (dir === null) {
        return;
      }
      let panel = panels.get(dir);
      if (!panel || panel.isDisposed) {
        panel = new ClassViewPanel(new ClassViewModel(dir), openPath, trans);
        panels.set(dir, panel);
        app.shell.add(panel, 'main');
      }
      app.shell.activateById(panel.id);
    }
  });
  palette?.addItem({ command: OPEN_CLASS_COMMAND, category: trans.__('Experiments') });
}
