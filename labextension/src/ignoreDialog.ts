import { Dialog, InputDialog, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';

import { english } from './trans';

/**
 * Ask why `runIds` should be left out of every statistic. Resolves to the reason,
 * or null when the user cancelled or gave none (then told why a reason is required).
 */
export async function askIgnoreReason(runIds: string[], trans: TranslationBundle = english): Promise<string | null> {
  const one = runIds.length === 1;
  const result = await InputDialog.getText({
    title: one ? trans.__('Ignore run %1', runIds[0]) : trans.__('Ignore %1 runs', runIds.length),
    label: one
      ? trans.__('Why leave this run out of every statistic? (written to IGNORED_RUNS.md)')
      : trans.__('Why leave %1 out of every statistic? (one reason, written to IGNORED_RUNS.md)', runIds.join(', ')),
    placeholder: trans.__('e.g. data loader bug, wrong split'),
    okLabel: one ? trans.__('Ignore run') : trans.__('Ignore runs')
  });
  if (!result.button.accept) {
    return null;
  }
  const reason = (result.value ?? '').trim();
  if (!reason) {
    await showDialog({
      title: trans.__('A reason is required'),
      body: one
        ? trans.__('Say why the run is ignored, so the record explains the gap later.')
        : trans.__('Say why the runs are ignored, so the record explains the gap later.'),
      buttons: [Dialog.okButton({ label: trans.__('OK') })]
    });
    return null;
  }
  return reason;
}
