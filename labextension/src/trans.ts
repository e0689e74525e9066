/**
 * The components' words through JupyterLab's translator (`ITranslator`): the plugin loads the bundle of
 * this package's domain and hands it down in a React context; without a translator the words are English.
 * Text that comes from the server (messages, the verdict's headline and reasoning) is shown as it came.
 */
import type { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

/** The gettext domain of this package's strings (`translator.load(DOMAIN)`). */
export const DOMAIN = 'jupyter_mlexp';

/** gettext's `%1`, `%2` placeholders filled in, `%%` a literal percent sign (as JupyterLab's bundles do). */
function fill(text: string, args: unknown[]): string {
  return text
    .replace(/%%/g, '%% ')
    .replace(/%(\d+)/g, (match, i) => (Number(i) - 1 < args.length ? String(args[Number(i) - 1]) : match))
    .replace(/%% /g, '%');
}

/** The strings as written: English, placeholders filled, the plural chosen by `n`. */
export const english: TranslationBundle = {
  __: (msgid: string, ...args: unknown[]) => fill(msgid, args),
  _n: (msgid: string, plural: string, n: number, ...args: unknown[]) => fill(n === 1 ? msgid : plural, [n, ...args]),
  _p: (_ctx: string, msgid: string, ...args: unknown[]) => fill(msgid, args),
  _np: (_ctx: string, msgid: string, plural: string, n: number, ...args: unknown[]) =>
    fill(n === 1 ? msgid : plural, [n, ...args]),
  gettext: (msgid: string, ...args: unknown[]) => fill(msgid, args),
  ngettext: (msgid: string, plural: string, n: number, ...args: unknown[]) =>
    fill(n === 1 ? msgid : plural, [n, ...args]),
  pgettext: (_ctx: string, msgid: string, ...args: unknown[]) => fill(msgid, args),
  npgettext: (_ctx: string, msgid: string, plural: string, n: number, ...args: unknown[]) =>
    fill(n === 1 ? msgid : plural, [n, ...args]),
  dcnpgettext: (_domain: string, _ctx: string, msgid: string, plural: string, n: number, ...args: unknown[]) =>
    fill(n === 1 ? msgid : plural, [n, ...args])
};

/** This package's bundle from JupyterLab's translator; English when there is none. */
export function bundleOf(translator: ITranslator | null | undefined): TranslationBundle {
  return translator ? translator.load(DOMAIN) : english;
}

/** The bundle the components translate with; a widget provides it around what it renders. */
export const TransContext = React.createContext<TranslationBundle>(english);

/** The bundle of the nearest provider (English outside one). */
export function useTrans(): TranslationBundle {
  return React.useContext(TransContext);
}
