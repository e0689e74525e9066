import * as React from 'react';

import { IIgnoredRun, IJournalQuery, IMlexpState, IRun } from '../tokens';
import { useTrans } from '../trans';
import { ExperimentPicker } from './ExperimentPicker';
import { HypothesisCard } from './HypothesisCard';
import { IgnoredRuns } from './IgnoredRuns';
import { Journal } from './Journal';
import { RunsTable } from './RunsTable';
import { SidebarLoops } from './SidebarLoops';
import { StatusBanner } from './StatusBanner';

export interface IPanelProps {
  state: IMlexpState;
  onSelect: (name: string) => void;
  onRefresh: () => void;
  onJournalQuery: (change: Partial<IJournalQuery>) => void;
  onAddEntry: (text: string, tags: string[]) => Promise<boolean>;
  onIgnore: (run: IRun) => void;
  onUnignore: (run: IRun | IIgnoredRun) => void;
  /** Open the runs table in the main area (at one run when given); absent, no button is shown. */
  onOpenRuns?: (runId?: string) => void;
  /** Build report.ipynb and open it; absent, no button is shown. */
  onBuildReport?: () => void;
  /** Show a loop attempt's diff, and close it. */
  onOpenAttempt?: (tag: string, n: number) => void;
  onClosePatch?: () => void;
}

/** The active notebook's kernel works on another experiment than the one shown. */
function KernelNote({ name, onSelect }: { name: string; onSelect: (name: string) => void }): JSX.Element {
  const trans = useTrans();
  return (
    <div className="jp-mlexp-row jp-mlexp-kernel-note">
      <span className="jp-mlexp-muted">
        {trans.__("The active notebook's kernel works on")} <code>{name}</code>.
      </span>
      <button className="jp-mlexp-button jp-mlexp-small" onClick={() => onSelect(name)}>
        {trans.__('Show it')}
      </button>
    </div>
  );
}

/** The whole sidebar, drawn from the model's state; every action goes back through a callback. */
export function Panel(props: IPanelProps): JSX.Element {
  const { state } = props;
  const trans = useTrans();
  const empty = state.status === 'ready' && state.experiments.length === 0;
  return (
    <div className="jp-mlexp-panel">
      <header className="jp-mlexp-title">
        <h2>{trans.__('Experiments')}</h2>
      </header>
      <StatusBanner status={state.status} error={state.error} />
      {state.status !== 'missing-extension' && (
        <ExperimentPicker
          experiments={state.experiments}
          selected={state.selected}
          onSelect={props.onSelect}
          onRefresh={props.onRefresh}
        />
      )}
      {state.kernelExperiment && state.kernelExperiment !== state.selected && (
        <KernelNote name={state.kernelExperiment} onSelect={props.onSelect} />
      )}
      {empty && (
        <p className="jp-mlexp-muted jp-mlexp-empty">
          {trans.__('No experiment under')} <code>{state.root}</code>. {trans.__('Register one with a')}{' '}
          <code>%%hypothesis NAME</code> {trans.__('cell (after')} <code>%load_ext jupyter_mlexp</code>).
        </p>
      )}
      {state.detail && <HypothesisCard detail={state.detail} busy={state.busy} onBuildReport={props.onBuildReport} />}
      {state.journal && (
        <Journal
          key={state.selected ?? ''}
          journal={state.journal}
          entryTags={state.entryTags}
          query={state.journalQuery}
          busy={state.busy}
          onQuery={props.onJournalQuery}
          onAdd={props.onAddEntry}
        />
      )}
      {state.runs && (
        <RunsTable
          runs={state.runs}
          busy={state.busy}
          onIgnore={props.onIgnore}
          onUnignore={props.onUnignore}
          onOpenRuns={props.onOpenRuns}
        />
      )}
      <SidebarLoops
        loops={state.loops}
        patch={state.patch}
        onOpenAttempt={props.onOpenAttempt ?? (() => undefined)}
        onClosePatch={props.onClosePatch ?? (() => undefined)}
      />
      {state.ignored && <IgnoredRuns ignored={state.ignored} busy={state.busy} onUnignore={props.onUnignore} />}
    </div>
  );
}
