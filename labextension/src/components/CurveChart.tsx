import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import uPlot from 'uplot';

import { formatValue } from '../format';
import { english, useTrans } from '../trans';

/** One line of the chart, with an optional band (a configuration's ± spread over seeds). */
export interface ICurve {
  label: string;
  points: [number, number][];
  band?: { step: number; lo: number; hi: number }[];
  /** The points the run logged when `points` is the server's sample of them (its answer's `points`). */
  total?: number;
  /** `total` is an estimate: the server's first look at a long file, read in parts. */
  approximate?: boolean;
}

export interface ICurveChartProps {
  metric: string;
  curves: ICurve[];
  height?: number;
}

/** Colours told apart in the light and the dark theme alike (Okabe–Ito, colour-blind safe), by curve. */
export const CURVE_COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#999999'];

/** At most about `max` points, evenly spaced, the last one kept: a million steps draw as fast as a thousand. */
export function thin<T>(points: T[], max = 4000): T[] {
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

/** What uPlot draws: one x array (every step any curve has), a y array per curve (null where it has no point),
 * then each band's upper and lower edge, and which series pair is a band. */
export interface IPlotData {
  data: (number | null)[][];
  /** For each series after x: the curve it belongs to, and whether it is a band's edge. */
  series: { curve: number; edge: 'hi' | 'lo' | null }[];
  bands: [number, number][];
}

export function plotData(curves: ICurve[], max = 4000): IPlotData {
  const lines = curves.map(c => thin(c.points, max));
  const bands = curves.map(c => thin(c.band ?? [], max));
  const steps = new Set<number>();
  lines.forEach(l => l.forEach(([s]) => steps.add(s)));
  bands.forEach(b => b.forEach(p => steps.add(p.step)));
  const xs = Array.from(steps).sort((a, b) => a - b);
  const at = new Map(xs.map((s, i) => [s, i]));
  const column = (pairs: [number, number][]) => {
    const ys = new Array<number | null>(xs.length).fill(null);
    pairs.forEach(([s, v]) => (ys[at.get(s)!] = v));
    return ys;
  };
  const data: (number | null)[][] = [xs];
  const series: IPlotData['series'] = [];
  lines.forEach((l, i) => {
    data.push(column(l));
    series.push({ curve: i, edge: null });
  });
  const pairs: [number, number][] = [];
  bands.forEach((b, i) => {
    if (b.length > 1) {
      data.push(column(b.map(p => [p.step, p.hi])));
      series.push({ curve: i, edge: 'hi' });
      data.push(column(b.map(p => [p.step, p.lo])));
      series.push({ curve: i, edge: 'lo' });
      pairs.push([data.length - 2, data.length - 1]);
    }
  });
  return { data, series, bands: pairs };
}

/** A theme colour from JupyterLab's CSS variables (canvas cannot read `var(...)`). */
function themeColor(el: Element, name: string, fallback: string): string {
  return getComputedStyle(el).getPropertyValue(name).trim() || fallback;
}

function options(
  metric: string,
  plot: IPlotData,
  el: Element,
  width: number,
  height: number,
  trans: TranslationBundle = english
): uPlot.Options {
  const text = themeColor(el, '--jp-ui-font-color1', '#333');
  const grid = themeColor(el, '--jp-border-color2', '#ddd');
  const font = `11px ${themeColor(el, '--jp-ui-font-family', 'sans-serif')}`;
  const axis = (label: string): uPlot.Axis => ({
    label,
    stroke: text,
    font,
    labelFont: font,
    grid: { stroke: grid, width: 1 },
    ticks: { stroke: grid, width: 1 },
    values: (_u, splits) => splits.map(v => formatValue(v))
  });
  return {
    width,
    height,
    legend: { show: false }, // the readout below says step and values; the legend names the curves
    cursor: { drag: { x: true, y: false }, points: { size: 6 } },
    scales: { x: { time: false } },
    axes: [axis(trans.__('step')), { ...axis(metric), size: 60 }],
    series: [
      { label: trans.__('step') },
      ...plot.series.map(s => {
        const color = CURVE_COLORS[s.curve % CURVE_COLORS.length];
        return s.edge
          ? { label: `${s.edge}`, stroke: 'transparent', points: { show: false }, spanGaps: true }
          : { label: `curve ${s.curve}`, stroke: color, width: 1.8, spanGaps: true, points: { show: false } };
      })
    ],
    bands: plot.bands.map(([hi, lo]) => ({
      series: [hi, lo],
      fill: `${CURVE_COLORS[plot.series[hi - 1].curve % CURVE_COLORS.length]}47` // about 28 % opaque
    }))
  };
}

/** The values under the cursor: the step, and each curve's value there (with its ± spread for a band). */
export function readout(
  curves: ICurve[],
  plot: IPlotData,
  idx: number | null | undefined,
  trans: TranslationBundle = english
): string | null {
  if (idx === null || idx === undefined || idx < 0 || idx >= plot.data[0].length) {
    return null;
  }
  const parts = curves.map((c, i) => {
    const v = plot.data[i + 1][idx];
    const edge = plot.series.findIndex(s => s.curve === i && s.edge === 'hi');
    const hi = edge >= 0 ? plot.data[edge + 1][idx] : null;
    const spread = typeof hi === 'number' && typeof v === 'number' ? ` ± ${formatValue(hi - v)}` : '';
    return `${c.label}: ${typeof v === 'number' ? formatValue(v) + spread : '–'}`;
  });
  return [trans.__('step %1', formatValue(plot.data[0][idx])), ...parts].join(' · ');
}

/**
 * A metric against step for a few runs or configurations, drawn by uPlot (canvas): as wide as the panel,
 * axes labelled, values under the cursor read out. New points of a live run are handed to `setData`; the
 * chart is built again only when the curves, the metric, the theme or the width change.
 */
/** The holder's width (followed as it resizes) and JupyterLab's theme name (the chart is rebuilt in new colours). */
function useWidthAndTheme(holder: React.RefObject<HTMLDivElement>, drawn: boolean): [number, string] {
  const [width, setWidth] = React.useState(0);
  const [theme, setTheme] = React.useState(document.body.dataset.jpThemeName ?? '');
  React.useEffect(() => {
    const el = holder.current;
    if (!el) {
      return;
    }
    setWidth(el.clientWidth);
    const resize = new ResizeObserver(() => setWidth(el.clientWidth));
    resize.observe(el);
    const themed = new MutationObserver(() => setTheme(document.body.dataset.jpThemeName ?? ''));
    themed.observe(document.body, { attributes: true, attributeFilter: ['data-jp-theme-name'] });
    return () => {
      resize.disconnect();
      themed.disconnect();
    };
  }, [drawn]); // eslint-disable-line react-hooks/exhaustive-deps -- the holder appears with the first points
  return [width, theme];
}

/** How many points a curve has and, when fewer are drawn (the server's sample, or thinned here), how many. */
export function pointsLabel(curve: ICurve, drawn: number, trans: TranslationBundle = english): string {
  const total = Math.max(curve.total ?? 0, curve.points.length);
  if (curve.approximate) {
    return trans.__('sampled: %1 of about %2 points, read in parts; the exact sample follows', drawn, total);
  }
  return drawn < total ? trans.__('sampled: %1 of %2 points', drawn, total) : trans._n('%1 point', '%1 points', total);
}

function Legend({ metric, curves, plot }: { metric: string; curves: ICurve[]; plot: IPlotData }): JSX.Element {
  const trans = useTrans();
  const drawn = (i: number) => plot.data[i + 1].filter(v => v !== null).length;
  return (
    <figcaption className="jp-mlexp-legend">
      <strong>{metric}</strong>
      {curves.map((c, i) => (
        <span key={c.label} className="jp-mlexp-legend-item" data-band={c.band ? 'yes' : 'no'}>
          <span className="jp-mlexp-swatch" style={{ background: CURVE_COLORS[i % CURVE_COLORS.length] }} />
          {c.label} <span className="jp-mlexp-muted">({pointsLabel(c, drawn(i), trans)})</span>
        </span>
      ))}
    </figcaption>
  );
}

export function CurveChart(props: ICurveChartProps): JSX.Element {
  const trans = useTrans();
  const height = props.height ?? 260;
  const holder = React.useRef<HTMLDivElement>(null);
  const chart = React.useRef<uPlot | null>(null);
  const [hover, setHover] = React.useState<number | null>(null);
  const plot = React.useMemo(() => plotData(props.curves), [props.curves]);
  const hasPoints = props.curves.some(c => c.points.length > 0);
  const [width, theme] = useWidthAndTheme(holder, hasPoints);
  const shape = `${props.metric}\u0000${theme}\u0000${props.curves.map(c => `${c.label}/${!!c.band}`).join('\u0000')}`;
  const sized = width > 0;

  React.useEffect(() => {
    const el = holder.current;
    if (!el || width <= 0 || !hasPoints) {
      return;
    }
    const opts = options(props.metric, plot, el, width, height, trans);
    opts.hooks = { setCursor: [u => setHover(u.cursor.idx ?? null)] };
    const u = new uPlot(opts, plot.data as uPlot.AlignedData, el);
    chart.current = u;
    return () => {
      u.destroy();
      chart.current = null;
    };
  }, [shape, sized, hasPoints]); // eslint-disable-line react-hooks/exhaustive-deps -- data and size go through setData / setSize

  React.useEffect(() => {
    chart.current?.setData(plot.data as uPlot.AlignedData);
  }, [plot]);

  React.useEffect(() => {
    if (width > 0) {
      chart.current?.setSize({ width, height });
    }
  }, [width, height]);

  if (!hasPoints) {
    return (
      <p className="jp-mlexp-muted jp-mlexp-chart-empty">
        {trans.__('No %1 logged yet for these runs.', props.metric)}
      </p>
    );
  }
  const value = readout(props.curves, plot, hover, trans);
  return (
    <figure
      className="jp-mlexp-chart"
      data-curves={props.curves.length}
      data-bands={plot.bands.length}
      aria-label={trans.__('%1 against step', props.metric)}
    >
      <div
        ref={holder}
        className="jp-mlexp-chart-canvas"
        role="img"
        aria-label={trans.__('%1 against step', props.metric)}
      />
      <div className="jp-mlexp-chart-readout" aria-live="off">
        {value ?? trans.__('Hover the chart to read step and values; drag to zoom, double-click to reset.')}
      </div>
      <Legend metric={props.metric} curves={props.curves} plot={plot} />
    </figure>
  );
}
