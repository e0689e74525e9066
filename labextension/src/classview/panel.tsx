import { InputDialog, UseSignal } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { flaskIcon } from '../icon';
import { english, TransContext } from '../trans';
import { ClassView } from './ClassView';
import { ClassViewModel, IClassViewState, listClassWorkspaces } from './model';
import { PolledPanel } from '../polledPanel';

let panels = 0;

/** The main-area panel with a collected class, read-only. */
export class ClassViewPanel extends PolledPanel<ClassViewModel> {
  constructor(
    model: ClassViewModel,
    private readonly _openPath: (path: string) => void,
    private readonly _trans: TranslationBundle = english
  ) {
    super(model);
    const dir = model.state.dir;
    this.id = `jp-mlexp-class-${++panels}`;
    this.addClass('jp-mlexp-class-panel');
    this.title.icon = flaskIcon;
    this.title.label = _trans.__('Class: %1', dir);
    this.title.caption = _trans.__('The collected class in %1: verdicts and audit flags (read-only)', dir);
    this.title.closable = true;
  }

  protected render(): JSX.Element {
    const m = this.model;
    return (
      <TransContext.Provider value={this._trans}>
        <UseSignal signal={m.stateChanged} initialArgs={m.state}>
          {(_, state) => (
            <ClassView
              state={state as IClassViewState}
              onSort={c => m.setSort(c)}
              onFlag={f => m.setFlag(f)}
              onToggle={k => m.toggle(k)}
              onRefresh={() => void m.refresh().catch(() => undefined)}
              onOpenReport={name => this._openPath(m.reportPath(name))}
            />
          )}
        </UseSignal>
      </TransContext.Provider>
    );
  }
}

/**
 * The class workspace to open: the command's `path`, else the one found under the server root, else
 * the user's pick among those found (or a folder typed in when none is). Null: cancelled.
 */
export async function askClassFolder(path?: unknown, trans: TranslationBundle = english): Promise<string | null> {
  if (typeof path === 'string' && path.length > 0) {
    return path;
  }
  let found: string[] = [];
  try {
    found = await listClassWorkspaces();
  } catch {
    found = [];
  }
  if (found.length === 1) {
    return found[0];
  }
  const answer =
    found.length > 1
      ? await InputDialog.getItem({
          title: trans.__('Open Class View'),
          label: trans.__('Class workspace'),
          items: found
        })
      : await InputDialog.getText({
          title: trans.__('Open Class View'),
          label: trans.__('Class workspace (the --out folder of mlexp class collect, relative to the server root)'),
          placeholder: 'ml101-class'
        });
  return answer.button.accept && answer.value ? answer.value : null;
}
