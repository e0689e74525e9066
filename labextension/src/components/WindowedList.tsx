import * as React from 'react';

export interface IWindowedListProps<T> {
  items: T[];
  /** Height of every row in pixels (rows are clipped to it). */
  rowHeight: number;
  /** Height of the scroll area once the list is longer than it. */
  maxHeight: number;
  /** Rows drawn beyond the visible ones on each side, for smooth scrolling. */
  overscan?: number;
  itemKey: (item: T) => string;
  renderRow: (item: T, index: number) => React.ReactNode;
  className?: string;
  /** Let the scroll area take the focus (tabIndex -1, not a tab stop): a focused row that scrolls out parks it there. */
  holdsFocus?: boolean;
}

/** A list that renders only the rows in view, so a thousand runs cost what twenty do. */
export function WindowedList<T>(props: IWindowedListProps<T>): JSX.Element {
  const { items, rowHeight, maxHeight, itemKey, renderRow } = props;
  const overscan = props.overscan ?? 6;
  const [scrollTop, setScrollTop] = React.useState(0);
  const total = items.length * rowHeight;
  const height = Math.min(total, maxHeight);
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(items.length, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  const rows: React.ReactNode[] = [];
  for (let i = first; i < last; i++) {
    rows.push(
      <div
        key={itemKey(items[i])}
        className="jp-mlexp-windowed-row"
        role="row"
        style={{ position: 'absolute', top: i * rowHeight, height: rowHeight, left: 0, right: 0 }}
      >
        {renderRow(items[i], i)}
      </div>
    );
  }
  return (
    <div
      className={`jp-mlexp-windowed ${props.className ?? ''}`}
      role="rowgroup"
      tabIndex={props.holdsFocus ? -1 : undefined}
      style={{ height, overflowY: 'auto', position: 'relative' }}
      onScroll={event => setScrollTop((event.target as HTMLElement).scrollTop)}
    >
      <div style={{ height: total, position: 'relative' }}>{rows}</div>
    </div>
  );
}
