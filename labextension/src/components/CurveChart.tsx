import * as React from 'react';

import { formatValue } from '../format';

/** One line of the chart, with an optional band (a configuration's ± spread over seeds). */
export interface ICurve {
  label: string;
  points: [number, number][];
  band?: { step: number; lo: number; hi: number }[];
}

export interface ICurveChartProps {
  metric: string;
  curves: ICurve[];
  width?: number;
  height?: number;
}

/** Colours told apart in the light and the dark theme alike (Okabe–Ito, colour-blind safe). */
export const CURVE_COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#999999'];

/** At most about `max` points, evenly spaced, the last one kept: a million steps draw as fast as a thousand. */
export function thin<T>(points: T[], max = 1500): T[] {
  if (points.length <= max) {
    return points;
  }
  const stride = Math.ceil(points.length / max);
  const out = points.filter((_, i) => i % stride === 0);
  if (out[out.length - 1] !== points[points.length - 1]) {
    out.push(points[points.length - 1]);
  }
  return out;
}

const PAD = { left: 56, right: 12, top: 10, bottom: 30 };

/** About `count` round numbers spanning [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) {
    return [lo];
  }
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map(f => f * magnitude).find(s => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    out.push(Number(t.toPrecision(12)));
  }
  return out;
}

function extent(curves: ICurve[]): { x: [number, number]; y: [number, number] } | null {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const c of curves) {
    for (const [s, v] of c.points) {
      x0 = Math.min(x0, s);
      x1 = Math.max(x1, s);
      y0 = Math.min(y0, v);
      y1 = Math.max(y1, v);
    }
    for (const b of c.band ?? []) {
      y0 = Math.min(y0, b.lo);
      y1 = Math.max(y1, b.hi);
    }
  }
  if (x0 === Infinity) {
    return null;
  }
  if (x1 === x0) {
    x1 = x0 + 1;
  }
  if (y1 === y0) {
    const pad = Math.abs(y0) * 0.05 || 1;
    y0 -= pad;
    y1 += pad;
  }
  return { x: [x0, x1], y: [y0, y1] };
}

/** A metric against step for a few runs or configurations, drawn as SVG (no charting library needed). */
export function CurveChart(props: ICurveChartProps): JSX.Element {
  const width = props.width ?? 560;
  const height = props.height ?? 260;
  const box = extent(props.curves);
  if (!box) {
    return <p className="jp-mlexp-muted jp-mlexp-chart-empty">No {props.metric} logged yet for these runs.</p>;
  }
  const innerW = width - PAD.left - PAD.right;
  const innerH = height - PAD.top - PAD.bottom;
  const x = (s: number) => PAD.left + ((s - box.x[0]) / (box.x[1] - box.x[0])) * innerW;
  const y = (v: number) => PAD.top + (1 - (v - box.y[0]) / (box.y[1] - box.y[0])) * innerH;
  const line = (pts: [number, number][]) =>
    thin(pts)
      .map(([s, v]) => `${x(s).toFixed(1)},${y(v).toFixed(1)}`)
      .join(' ');
  return (
    <figure className="jp-mlexp-chart">
      <svg width={width} height={height} role="img" aria-label={`${props.metric} against step`}>
        <g className="jp-mlexp-chart-axis">
          {ticks(box.y[0], box.y[1]).map(t => (
            <g key={`y${t}`}>
              <line x1={PAD.left} x2={width - PAD.right} y1={y(t)} y2={y(t)} className="jp-mlexp-chart-grid" />
              <text x={PAD.left - 4} y={y(t) + 4} textAnchor="end">
                {formatValue(t)}
              </text>
            </g>
          ))}
          {ticks(box.x[0], box.x[1]).map(t => (
            <text key={`x${t}`} x={x(t)} y={height - PAD.bottom + 16} textAnchor="middle">
              {formatValue(t)}
            </text>
          ))}
          <text x={PAD.left + innerW / 2} y={height - 2} textAnchor="middle">
            step
          </text>
        </g>
        {props.curves.map((c, i) => {
          const color = CURVE_COLORS[i % CURVE_COLORS.length];
          const band = c.band ?? [];
          const area =
            band.length > 1
              ? line(band.map(b => [b.step, b.hi])) +
                ' ' +
                line(
                  band
                    .slice()
                    .reverse()
                    .map(b => [b.step, b.lo])
                )
              : '';
          return (
            <g key={c.label} data-curve={c.label}>
              {area && <polygon points={area} fill={color} opacity={0.28} />}
              <polyline points={line(c.points)} fill="none" stroke={color} strokeWidth={1.8} />
              {c.points.length === 1 && <circle cx={x(c.points[0][0])} cy={y(c.points[0][1])} r={3} fill={color} />}
            </g>
          );
        })}
      </svg>
      <figcaption className="jp-mlexp-legend">
        <strong>{props.metric}</strong>
        {props.curves.map((c, i) => (
          <span key={c.label} className="jp-mlexp-legend-item">
            <span className="jp-mlexp-swatch" style={{ background: CURVE_COLORS[i % CURVE_COLORS.length] }} />
            {c.label} <span className="jp-mlexp-muted">({c.points.length} points)</span>
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
