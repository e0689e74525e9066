import * as React from 'react';

import { formatTime } from '../format';
import { IJournalEntry, IJournalPage, IJournalQuery } from '../tokens';
import { useTrans } from '../trans';

export interface IJournalProps {
  journal: IJournalPage;
  /** Tags a researcher writes by hand, as the server lists them; the add-entry box offers them. */
  entryTags: string[];
  query: IJournalQuery;
  busy: boolean;
  onQuery: (change: Partial<IJournalQuery>) => void;
  onAdd: (text: string, tags: string[]) => Promise<boolean>;
}

/** Entries longer than this are cut, with a button to read the rest. */
export const ENTRY_PREVIEW_CHARS = 280;

function Entry({ entry }: { entry: IJournalEntry }): JSX.Element {
  const trans = useTrans();
  const [open, setOpen] = React.useState(false);
  const long = entry.text.length > ENTRY_PREVIEW_CHARS;
  const text = long && !open ? `${entry.text.slice(0, ENTRY_PREVIEW_CHARS).trimEnd()}…` : entry.text;
  return (
    <li className="jp-mlexp-entry">
      <div className="jp-mlexp-entry-head">
        <time className="jp-mlexp-muted">{formatTime(entry.timestamp, true, trans.__('undated'))}</time>
        {entry.tags.map(tag => (
          <span key={tag} className={`jp-mlexp-tag jp-mlexp-tag-${tag.toLowerCase()}`}>
            {tag}
          </span>
        ))}
      </div>
      <div className="jp-mlexp-entry-text">{text}</div>
      {long && (
        <button className="jp-mlexp-link jp-mlexp-expand" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? trans.__('Show less') : trans.__('Show all')}
        </button>
      )}
    </li>
  );
}

/** The add-entry box: text, one tag from the server's list, Ctrl/Shift+Enter or the button to add. */
function AddEntry(props: Pick<IJournalProps, 'entryTags' | 'busy' | 'onAdd'>): JSX.Element {
  const trans = useTrans();
  const [text, setText] = React.useState('');
  const [tag, setTag] = React.useState('');
  const add = async () => {
    if (await props.onAdd(text, tag ? [tag] : [])) {
      setText('');
    }
  };
  return (
    <div className="jp-mlexp-add-entry">
      <textarea
        className="jp-mlexp-input"
        placeholder={trans.__('What did you notice?')}
        aria-label={trans.__('New journal entry')}
        value={text}
        rows={2}
        onChange={event => setText(event.target.value)}
        onKeyDown={event => {
          if (event.key === 'Enter' && (event.ctrlKey || event.metaKey || event.shiftKey)) {
            event.preventDefault();
            void add();
          }
        }}
      />
      <div className="jp-mlexp-row">
        <select
          className="jp-mlexp-select"
          aria-label={trans.__('Tag of the new entry')}
          title={props.entryTags.length === 0 ? trans.__('Tags arrive with the journal from the server') : undefined}
          disabled={props.entryTags.length === 0}
          value={tag}
          onChange={e => setTag(e.target.value)}
        >
          <option value="">{trans.__('no tag')}</option>
          {props.entryTags.map(t => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <button
          className="jp-mlexp-button jp-mlexp-primary"
          disabled={props.busy || !text.trim()}
          onClick={() => void add()}
        >
          {trans.__('Add entry')}
        </button>
      </div>
    </div>
  );
}

/** The tag filter and the search box; the search goes to the server once typing pauses. */
function Filters({ journal, query, onQuery }: Pick<IJournalProps, 'journal' | 'query' | 'onQuery'>): JSX.Element {
  const trans = useTrans();
  const currentQ = query.q;
  const [search, setSearch] = React.useState(query.q);
  React.useEffect(() => {
    if (search === currentQ) {
      return;
    }
    const timer = setTimeout(() => onQuery({ q: search }), 300);
    return () => clearTimeout(timer);
  }, [search, currentQ, onQuery]);
  const tags = Object.keys(journal.tags).sort();
  return (
    <div className="jp-mlexp-row jp-mlexp-filters">
      <select
        className="jp-mlexp-select"
        aria-label={trans.__('Filter by tag')}
        value={query.tag}
        onChange={event => onQuery({ tag: event.target.value })}
      >
        <option value="">{trans.__('all tags')}</option>
        {tags.map(t => (
          <option key={t} value={t}>
            {t} ({journal.tags[t]})
          </option>
        ))}
      </select>
      <input
        className="jp-mlexp-input"
        type="search"
        placeholder={trans.__('Search the journal')}
        aria-label={trans.__('Search the journal')}
        value={search}
        onChange={event => setSearch(event.target.value)}
      />
    </div>
  );
}

function Pager({ journal, query, onQuery }: Pick<IJournalProps, 'journal' | 'query' | 'onQuery'>): JSX.Element {
  const trans = useTrans();
  const first = journal.total === 0 ? 0 : journal.offset + 1;
  const last = journal.offset + journal.entries.length;
  return (
    <div className="jp-mlexp-row jp-mlexp-pager">
      <button
        className="jp-mlexp-button"
        disabled={journal.offset === 0}
        onClick={() => onQuery({ offset: Math.max(0, journal.offset - query.limit) })}
      >
        {trans.__('Newer')}
      </button>
      <span className="jp-mlexp-muted">{trans.__('%1–%2 of %3', first, last, journal.total)}</span>
      <button
        className="jp-mlexp-button"
        disabled={last >= journal.total}
        onClick={() => onQuery({ offset: journal.offset + query.limit })}
      >
        {trans.__('Older')}
      </button>
    </div>
  );
}

function Warnings({ warnings }: { warnings: string[] }): JSX.Element | null {
  const trans = useTrans();
  if (warnings.length === 0) {
    return null;
  }
  return (
    <details className="jp-mlexp-warnings">
      <summary>
        {trans._n(
          '%1 line of JOURNAL.md read as best we could',
          '%1 lines of JOURNAL.md read as best we could',
          warnings.length
        )}
      </summary>
      <ul>
        {warnings.slice(0, 20).map((w, i) => (
          <li key={i}>{w}</li>
        ))}
      </ul>
    </details>
  );
}

/** The journal, newest first, one page at a time, with a tag filter, a search box and an add-entry box. */
export function Journal(props: IJournalProps): JSX.Element {
  const { journal, query } = props;
  const trans = useTrans();
  return (
    <section className="jp-mlexp-section jp-mlexp-journal" aria-label={trans.__('Journal')}>
      <h3>{trans.__('Journal')}</h3>
      <AddEntry entryTags={props.entryTags} busy={props.busy} onAdd={props.onAdd} />
      <Filters journal={journal} query={query} onQuery={props.onQuery} />
      {journal.entries.length === 0 ? (
        <p className="jp-mlexp-muted">
          {query.tag || query.q ? trans.__('No entry matches.') : trans.__('No journal entries yet.')}
        </p>
      ) : (
        <ul className="jp-mlexp-entries">
          {journal.entries.map(e => (
            <Entry key={`${e.line}-${e.timestamp}`} entry={e} />
          ))}
        </ul>
      )}
      <Pager journal={journal} query={query} onQuery={props.onQuery} />
      <Warnings warnings={journal.warnings} />
    </section>
  );
}
