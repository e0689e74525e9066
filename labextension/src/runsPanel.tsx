import { showErrorMessage, UseSignal } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { RunsView } from './components/RunsView';
import { flaskIcon } from './icon';
import { askIgnoreReason } from './ignoreDialog';
import { IRunsViewState, RunsViewModel } from './runsModel';
import { english, TransContext } from './trans';
import { PolledPanel } from './polledPanel';

/** The main-area panel with the runs table; it shows the experiment picked in the sidebar. */
export class MlexpRunsPanel extends PolledPanel<RunsViewModel> {
  constructor(
    model: RunsViewModel,
    private readonly _openPath: (path: string) => void,
    private readonly _trans: TranslationBundle = english
  ) {
    super(model);
    this.id = 'jp-mlexp-runs';
    this.addClass('jp-mlexp-runs-panel');
    this.title.icon = flaskIcon;
    this.title.label = _trans.__('Runs');
    this.title.caption = _trans.__('Runs of the experiment: sort, filter, group, compare, curves');
    this.title.closable = true;
    model.stateChanged.connect(this._retitle);
    this._retitle();
  }

  protected render(): JSX.Element {
    const m = this.model;
    return (
      <TransContext.Provider value={this._trans}>
        <UseSignal signal={m.stateChanged} initialArgs={m.state}>
          {(_, state) => (
            <RunsView
              state={state as IRunsViewState}
              curveRuns={m.curveRuns()}
              onSort={c => m.setSort(c)}
              onFilter={f => m.setFilter(f)}
              onGrouped={g => m.setGrouped(g)}
              onSelect={(ids, on) => m.select(ids, on)}
              onClearSelection={() => m.clearSelection()}
              onOpenRun={id => void m.openRun(id)}
              onIgnoreSelected={() => void this._ignoreSelected()}
              onCurveMetric={metric => m.setCurveMetric(metric)}
              onOpenPath={this._openPath}
              onOpenAttempt={(tag, n) => void m.openAttempt(tag, n)}
              onClosePatch={() => m.closePatch()}
            />
          )}
        </UseSignal>
      </TransContext.Provider>
    );
  }

  private _retitle = (): void => {
    const name = this.model.state.experiment;
    this.title.label = name ? this._trans.__('Runs: %1', name) : this._trans.__('Runs');
  };

  private async _ignoreSelected(): Promise<void> {
    const reason = await askIgnoreReason(this.model.state.selection, this._trans);
    if (reason === null) {
      return;
    }
    const failed = await this.model.ignoreSelected(reason);
    if (failed.length > 0) {
      void showErrorMessage(this._trans.__('Some runs were not ignored'), { message: failed.join('\n') });
    }
  }
}
