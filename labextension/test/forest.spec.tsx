import * as React from 'react';
import { act } from 'react';
import { createRoot } from 'react-dom/client';

import { drawnLabels, ForestPlot } from '../src/components/ForestPlot';
import { IForest } from '../src/tokens';

function row(configuration: string, estimate: number, subject = false) {
  return {
    configuration,
    estimate,
    bound: estimate - 0.01,
    bound_level: 0.9833,
    bound_side: 'lower' as const,
    n: 3,
    values: [],
    subject,
    judged: true
  };
}

describe('ForestPlot labels', () => {
  it('leaves off a stage every label shares, keeps it in the tooltip', () => {
    expect(drawnLabels(['lr=0.1 [implementation]', 'lr=0.05 [implementation]'])).toEqual(['lr=0.1', 'lr=0.05']);
    // different stages tell rows apart: kept
    expect(drawnLabels(['lr=0.1 [baselines]', 'lr=0.1 [implementation]'])).toEqual([
      'lr=0.1 [baselines]',
      'lr=0.1 [implementation]'
    ]);
    expect(drawnLabels(['[implementation]'])).toEqual(['[implementation]']);
    expect(drawnLabels([])).toEqual([]);

    const forest: IForest = {
      metric: 'val_acc',
      relative: false,
      criterion: 'val_acc >= 0.95',
      threshold: 0.95,
      decision: 'supported',
      configurations: [row('lr=0.1 [implementation]', 0.9617, true), row('lr=0.05 [implementation]', 0.9423)]
    };
    const container = document.createElement('div');
    const root = createRoot(container);
    act(() => root.render(<ForestPlot forest={forest} />));
    const labels = Array.from(container.querySelectorAll('.jp-mlexp-forest-label')).map(t => t.textContent);
    expect(labels).toEqual(['◆ lr=0.1', 'lr=0.05']);
    expect(container.querySelector('g title')!.textContent).toContain('lr=0.1 [implementation]: 0.9617');
    act(() => root.unmount());
  });
});
