import * as React from 'react';

import { formatValue } from '../format';
import { IForest, IForestRow } from '../tokens';
import { useTrans } from '../trans';

/** Rows drawn in the narrow sidebar; the report's figure shows up to 20. */
const MAX_ROWS = 8;
const ROW = 18;
const WIDTH = 240;
const LABEL = 84; // px of label column
const PAD = 6;

function short(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The labels as drawn: a ` [stage]` that every configuration's label ends with tells them no
 * apart and would take the narrow label column, so it is left off (each row's tooltip keeps it).
 */
export function drawnLabels(labels: string[]): string[] {
  const suffix = labels[0]?.match(/ \[[^\]]*\]$/)?.[0];
  return suffix && labels.every(l => l.endsWith(suffix) && l.length > suffix.length)
    ? labels.map(l => l.slice(0, -suffix.length))
    : labels;
}

/**
 * The verdict's forest, drawn from the server's numbers (`core.forest`, the same as the report's figure):
 * each configuration's estimate, its one-sided bound as an arrow to the edge, the criterion's threshold
 * as a dashed line; the configuration the verdict is about is marked with a diamond.
 */
export function ForestPlot({ forest }: { forest: IForest }): JSX.Element | null {
  const trans = useTrans();
  const rows = forest.configurations.slice(0, MAX_ROWS);
  if (rows.length === 0) {
    return null;
  }
  const labels = drawnLabels(rows.map(r => r.configuration));
  const xs = [
    forest.threshold,
    ...rows.map(r => r.estimate),
    ...rows.flatMap(r => (r.bound === null ? [] : [r.bound]))
  ];
  const finite = xs.filter(x => Number.isFinite(x));
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  const pad = (hi - lo) * 0.12 || Math.abs(hi) * 0.05 || 0.05;
  lo -= pad;
  hi += pad;
  const plot = WIDTH - LABEL - PAD;
  const x = (v: number) => LABEL + ((v - lo) / (hi - lo)) * plot;
  const height = rows.length * ROW + 16;
  const title = trans.__(
    "%1: each configuration's estimate and the verdict's one-sided bound, against %2",
    forest.relative ? trans.__('Δ %1 (difference to the baseline)', forest.metric) : forest.metric,
    forest.criterion
  );
  return (
    <figure className="jp-mlexp-forest">
      <svg width="100%" viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-label={title}>
        <title>{title}</title>
        <line
          className="jp-mlexp-forest-threshold"
          x1={x(forest.threshold)}
          x2={x(forest.threshold)}
          y1={0}
          y2={height - 14}
        />
        {rows.map((r, i) => (
          <ForestRow
            key={r.configuration}
            row={r}
            label={labels[i]}
            y={i * ROW + ROW / 2}
            x={x}
            lo={LABEL}
            hi={WIDTH - PAD}
          />
        ))}
        <text className="jp-mlexp-forest-axis" x={x(forest.threshold)} y={height - 3} textAnchor="middle">
          {formatValue(forest.threshold)}
        </text>
      </svg>
      {forest.configurations.length > MAX_ROWS && (
        <figcaption className="jp-mlexp-muted">
          {trans.__('%1 of %2 configurations; the report shows more.', MAX_ROWS, forest.configurations.length)}
        </figcaption>
      )}
    </figure>
  );
}

function ForestRow(props: {
  row: IForestRow;
  label: string;
  y: number;
  x: (v: number) => number;
  lo: number;
  hi: number;
}): JSX.Element {
  const trans = useTrans();
  const { row, y, x } = props;
  const cls = row.subject ? 'jp-mlexp-forest-subject' : row.judged ? 'jp-mlexp-forest-judged' : 'jp-mlexp-forest-other';
  const cx = x(row.estimate);
  const level =
    row.bound_level === null
      ? ''
      : trans.__(
          ', %1%% bound %2',
          (row.bound_level * 100).toPrecision(4).replace(/\.?0+$/, ''),
          formatValue(row.bound)
        );
  return (
    <g className={cls}>
      <title>{trans.__('%1: %2 (n = %3%4)', row.configuration, formatValue(row.estimate), row.n, level)}</title>
      <text x={2} y={y + 4} className="jp-mlexp-forest-label">
        {(row.subject ? '◆ ' : '') + short(props.label, 14)}
      </text>
      {row.bound !== null && (
        <line
          className="jp-mlexp-forest-interval"
          x1={x(row.bound)}
          x2={row.bound_side === 'lower' ? props.hi : props.lo}
          y1={y}
          y2={y}
        />
      )}
      {row.bound !== null && (
        <line className="jp-mlexp-forest-interval" x1={x(row.bound)} x2={x(row.bound)} y1={y - 4} y2={y + 4} />
      )}
      {row.subject ? (
        <rect
          className="jp-mlexp-forest-point"
          x={cx - 4}
          y={y - 4}
          width={8}
          height={8}
          transform={`rotate(45 ${cx} ${y})`}
        />
      ) : (
        <circle className="jp-mlexp-forest-point" cx={cx} cy={y} r={3} />
      )}
    </g>
  );
}
