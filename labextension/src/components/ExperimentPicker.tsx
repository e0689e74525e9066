import * as React from 'react';

import { IExperimentSummary } from '../tokens';
import { useTrans } from '../trans';

export interface IExperimentPickerProps {
  experiments: IExperimentSummary[];
  selected: string | null;
  onSelect: (name: string) => void;
  onRefresh: () => void;
}

export function ExperimentPicker(props: IExperimentPickerProps): JSX.Element {
  const { experiments, selected } = props;
  const trans = useTrans();
  return (
    <div className="jp-mlexp-picker">
      <label htmlFor="jp-mlexp-experiment">{trans.__('Experiment')}</label>
      <select
        id="jp-mlexp-experiment"
        className="jp-mlexp-select"
        value={selected ?? ''}
        disabled={experiments.length === 0}
        onChange={event => props.onSelect(event.target.value)}
      >
        {experiments.length === 0 && <option value="">{trans.__('(none)')}</option>}
        {experiments.map(e => (
          <option key={e.name} value={e.name} title={e.statement ?? e.error ?? ''}>
            {e.name}
          </option>
        ))}
      </select>
      <button className="jp-mlexp-button" title={trans.__('Refresh now')} onClick={props.onRefresh}>
        ⟳
      </button>
    </div>
  );
}
