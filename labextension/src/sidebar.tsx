import { Dialog, showDialog, showErrorMessage, UseSignal } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { Panel } from './components/Panel';
import { flaskIcon } from './icon';
import { askIgnoreReason } from './ignoreDialog';
import { MlexpModel } from './model';
import { IIgnoredRun, IMlexpState, IRun } from './tokens';
import { english, TransContext } from './trans';
import { PolledPanel } from './polledPanel';

/** What the sidebar asks of the application: the runs table, and a file in a tab. */
export interface ISidebarActions {
  openRuns: (runId?: string) => void;
  openPath: (path: string) => void;
}

/** The left-sidebar widget: draws the model's state and asks the user what actions need (a reason). */
export class MlexpSidebar extends PolledPanel<MlexpModel> {
  constructor(
    model: MlexpModel,
    private readonly _actions: ISidebarActions | null = null,
    private readonly _trans: TranslationBundle = english
  ) {
    super(model);
    this.id = 'jp-mlexp-sidebar';
    this.addClass('jp-mlexp-sidebar');
    this.title.icon = flaskIcon;
    this.title.caption = _trans.__('Experiments: hypothesis, journal, runs');
  }

  protected render(): JSX.Element {
    const trans = this._trans;
    return (
      <TransContext.Provider value={trans}>
        <UseSignal signal={this.model.stateChanged} initialArgs={this.model.state}>
          {(_, state) => (
            <Panel
              state={state as IMlexpState}
              onSelect={name => void this.model.select(name)}
              onRefresh={() => void this.model.refresh().catch(() => undefined)}
              onJournalQuery={change => void this.model.setJournalQuery(change)}
              onAddEntry={(text, tags) =>
                this._report(trans.__('Could not add the journal entry'), this.model.addJournalEntry(text, tags))
              }
              onIgnore={run => void this._ignore(run)}
              onUnignore={run => void this._unignore(run)}
              onOpenRuns={this._actions ? runId => this._actions?.openRuns(runId) : undefined}
              onBuildReport={this._actions ? () => void this._buildReport() : undefined}
              onOpenAttempt={(tag, n) => void this.model.openAttempt(tag, n)}
              onClosePatch={() => this.model.closePatch()}
            />
          )}
        </UseSignal>
      </TransContext.Provider>
    );
  }

  private async _ignore(run: IRun): Promise<void> {
    const reason = await askIgnoreReason([run.run_id], this._trans);
    if (reason === null) {
      return;
    }
    await this._report(this._trans.__('Could not ignore run %1', run.run_id), this.model.ignoreRun(run.run_id, reason));
  }

  private async _unignore(run: IRun | IIgnoredRun): Promise<void> {
    const trans = this._trans;
    const reason = 'reason' in run ? run.reason : run.ignored_reason;
    const result = await showDialog({
      title: trans.__('Count run %1 again?', run.run_id),
      body: trans.__('It was ignored because: %1', reason ?? trans.__('(no reason recorded)')),
      buttons: [Dialog.cancelButton({ label: trans.__('Cancel') }), Dialog.okButton({ label: trans.__('Count again') })]
    });
    if (result.button.accept) {
      await this._report(trans.__('Could not count run %1 again', run.run_id), this.model.unignoreRun(run.run_id));
    }
  }

  /** Build report.ipynb on the server, then open it. */
  private async _buildReport(): Promise<void> {
    const trans = this._trans;
    const answer = await this.model.buildReport();
    if (!answer) {
      void showErrorMessage(trans.__('Could not build the report'), {
        message: this.model.state.error ?? trans.__('unknown error')
      });
      return;
    }
    if (answer.note) {
      void showDialog({ title: trans.__('Report built'), body: answer.note, buttons: [Dialog.okButton()] });
    }
    if (answer.open_path) {
      this._actions?.openPath(answer.open_path);
    } else {
      await showDialog({
        title: trans.__('Report built'),
        body: trans.__(
          '%1 was written in the experiment folder, outside the folder this server serves.',
          answer.report
        ),
        buttons: [Dialog.okButton()]
      });
    }
  }

  /** An action the user asked for failed: say so in a dialog, since the next poll clears the banner. */
  private async _report(title: string, action: Promise<boolean>): Promise<boolean> {
    const ok = await action;
    const error = this.model.state.error;
    if (!ok && error) {
      void showErrorMessage(title, { message: error });
    }
    return ok;
  }
}
