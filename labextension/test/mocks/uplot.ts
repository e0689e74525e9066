/** uPlot draws on a canvas, which jsdom has not: this stand-in records what the chart asked for. */
export default class FakePlot {
  static instances: FakePlot[] = [];
  data: unknown[][];
  width: number;
  setDataCalls = 0;
  destroyed = false;
  cursor: { idx: number | null } = { idx: null };

  constructor(
    readonly opts: { width: number; hooks?: { setCursor?: ((u: FakePlot) => void)[] } } & { [key: string]: unknown },
    data: unknown[][],
    readonly target: HTMLElement
  ) {
    this.data = data;
    this.width = opts.width;
    FakePlot.instances.push(this);
  }

  setData(data: unknown[][]): void {
    this.data = data;
    this.setDataCalls++;
  }

  setSize(size: { width: number }): void {
    this.width = size.width;
  }

  destroy(): void {
    this.destroyed = true;
  }

  /** What a mouse over the plot at data index `idx` does. */
  hover(idx: number): void {
    this.cursor.idx = idx;
    (this.opts.hooks?.setCursor ?? []).forEach(f => f(this));
  }
}
