import * as React from 'react';

import { formatDuration, formatTime } from '../format';
import { cellText } from '../table';
import { IRunDetail } from '../tokens';
import { useTrans } from '../trans';

export interface IRunDetailProps {
  detail: IRunDetail | null;
  runId: string;
  onOpenPath: (path: string) => void;
  onClose: () => void;
}

function humanSize(bytes: number): string {
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  return bytes < 1 << 20 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / (1 << 20)).toFixed(1)} MB`;
}

/** One run's page: a failed run's error first, then its parameters, files (opened in a tab) and log tails. */
export function RunDetail(props: IRunDetailProps): JSX.Element {
  const { detail } = props;
  const trans = useTrans();
  const notebook = detail?.open_paths['output.ipynb'] ?? null;
  return (
    <section className="jp-mlexp-card jp-mlexp-run-detail" aria-label={trans.__('Run %1', props.runId)}>
      <div className="jp-mlexp-card-head">
        <h3>
          {trans.__('Run')} <code>{props.runId}</code>
        </h3>
        {detail && <span className={`jp-mlexp-status jp-mlexp-status-${detail.run.status}`}>{detail.run.status}</span>}
        {notebook && (
          <button className="jp-mlexp-button jp-mlexp-primary" onClick={() => props.onOpenPath(notebook)}>
            {trans.__('Open output.ipynb')}
          </button>
        )}
        <button className="jp-mlexp-button" aria-label={trans.__('Close the run')} onClick={props.onClose}>
          {trans.__('Close')}
        </button>
      </div>
      {!detail && <p className="jp-mlexp-muted">{trans.__('Loading…')}</p>}
      {detail && <RunBody detail={detail} onOpenPath={props.onOpenPath} />}
    </section>
  );
}

function RunError({ error }: { error: NonNullable<IRunDetail['error']> }): JSX.Element {
  const trans = useTrans();
  return (
    <div className="jp-mlexp-run-error" role="alert">
      <strong>
        {error.name ?? trans.__('Error')}
        {error.cell !== undefined && error.cell !== null ? trans.__(' in cell %1', String(error.cell)) : ''}:
      </strong>{' '}
      {error.message}
      {error.traceback && (
        <details>
          <summary>{trans.__('Traceback')}</summary>
          <pre>{error.traceback}</pre>
        </details>
      )}
    </div>
  );
}

function RunFacts({ run }: { run: IRunDetail['run'] }): JSX.Element {
  const trans = useTrans();
  return (
    <dl className="jp-mlexp-criteria">
      <dt>{trans.__('Configuration')}</dt>
      <dd>{run.config}</dd>
      <dt>{trans.__('Seed')}</dt>
      <dd>{cellText(run.seed)}</dd>
      <dt>{trans.__('Started')}</dt>
      <dd>{formatTime(run.started, true, '–')}</dd>
      <dt>{trans.__('Duration')}</dt>
      <dd>{formatDuration(run.duration_s)}</dd>
      {run.ignored && (
        <>
          <dt>{trans.__('Ignored')}</dt>
          <dd>{run.ignored_reason}</dd>
        </>
      )}
    </dl>
  );
}

function RunFiles({ detail, onOpenPath }: { detail: IRunDetail; onOpenPath: (path: string) => void }): JSX.Element {
  return (
    <ul className="jp-mlexp-files">
      {detail.files.map(f => {
        const path = detail.open_paths[f.name];
        return (
          <li key={f.name}>
            {path ? (
              <button className="jp-mlexp-link" onClick={() => onOpenPath(path)}>
                {f.name}
              </button>
            ) : (
              <code>{f.name}</code>
            )}{' '}
            <span className="jp-mlexp-muted">{humanSize(f.size)}</span>
          </li>
        );
      })}
    </ul>
  );
}

/** A run's page: its error first, then what it ran with, its files (opened in a tab) and its logs. */
function RunBody({ detail, onOpenPath }: { detail: IRunDetail; onOpenPath: (path: string) => void }): JSX.Element {
  const trans = useTrans();
  const error = detail.error;
  return (
    <>
      {error && <RunError error={error} />}
      {detail.run.problem && <p className="jp-mlexp-warning">{detail.run.problem}</p>}
      <RunFacts run={detail.run} />
      <h4>{trans.__('Files')}</h4>
      <RunFiles detail={detail} onOpenPath={onOpenPath} />
      {Object.entries(detail.logs).map(([name, text]) => (
        <details key={name} className="jp-mlexp-log" open={name === 'stdout.txt' && !!error}>
          <summary>{name}</summary>
          <pre>{text ?? ''}</pre>
        </details>
      ))}
    </>
  );
}
