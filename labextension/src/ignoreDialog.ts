import { Dialog, InputDialog, showDialog } from '@jupyterlab/apputils';

/**
 * Ask why `runIds` should be left out of every statistic. Resolves to the reason,
 * or null when the user cancelled or gave none (then told why a reason is required).
 */
export async function askIgnoreReason(runIds: string[]): Promise<string | null> {
  const one = runIds.length === 1;
  const result = await InputDialog.getText({
    title: one ? `Ignore run ${runIds[0]}` : `Ignore ${runIds.length} runs`,
    label: one
      ? 'Why leave this run out of every statistic? (written to IGNORED_RUNS.md)'
      : `Why leave ${runIds.join(', ')} out of every statistic? (one reason, written to IGNORED_RUNS.md)`,
    placeholder: 'e.g. data loader bug, wrong split',
    okLabel: one ? 'Ignore run' : 'Ignore runs'
  });
  if (!result.button.accept) {
    return null;
  }
  const reason = (result.value ?? '').trim();
  if (!reason) {
    await showDialog({
      title: 'A reason is required',
      body: `Say why the ${one ? 'run is' : 'runs are'} ignored, so the record explains the gap later.`,
      buttons: [Dialog.okButton()]
    });
    return null;
  }
  return reason;
}
