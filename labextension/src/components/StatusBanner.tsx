import * as React from 'react';

import { ConnectionStatus } from '../tokens';
import { useTrans } from '../trans';

export interface IStatusBannerProps {
  status: ConnectionStatus;
  error: string | null;
}

/** Says plainly when the server extension is missing or a request failed. */
export function StatusBanner({ status, error }: IStatusBannerProps): JSX.Element | null {
  const trans = useTrans();
  if (status === 'missing-extension') {
    return (
      <div className="jp-mlexp-banner jp-mlexp-banner-error" role="alert">
        <strong>{trans.__('Server extension not found.')}</strong> {error}
      </div>
    );
  }
  if (status === 'no-server') {
    return (
      <div className="jp-mlexp-banner jp-mlexp-banner-info" role="status">
        <strong>{trans.__('No Jupyter server.')}</strong> {error}
      </div>
    );
  }
  if (error) {
    return (
      <div className="jp-mlexp-banner jp-mlexp-banner-warn" role="alert">
        <strong>{trans.__('Request failed:')}</strong> {error}{' '}
        <em>{trans.__('Retrying with back-off; the data shown may be stale.')}</em>
      </div>
    );
  }
  if (status === 'loading') {
    return <div className="jp-mlexp-banner">{trans.__('Loading experiments…')}</div>;
  }
  return null;
}
