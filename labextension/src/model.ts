import * as actions from './actions';
import { experimentPath, NoServerError, requestAPI, ServerExtensionMissingError } from './handler';
import { IPollOptions, PolledModel, requestPolled } from './polledModel';
import {
  IExperimentDetail,
  IExperimentList,
  IIgnoredList,
  IJournalPage,
  IJournalQuery,
  IMlexpState,
  IReportAnswer,
  IRunList
} from './tokens';

export const JOURNAL_PAGE_SIZE = 50;

const INITIAL_STATE: IMlexpState = {
  status: 'loading',
  error: null,
  experiments: [],
  root: null,
  selected: null,
  detail: null,
  journal: null,
  journalQuery: { tag: '', q: '', offset: 0, limit: JOURNAL_PAGE_SIZE },
  runs: null,
  ignored: null,
  entryTags: [], // only the server's list (`entry_tags`, Python's journal TAGS): none until it arrives
  loops: null,
  patch: null,
  kernelExperiment: null,
  busy: false
};

export interface IMlexpModelOptions extends IPollOptions {
  /**
   * The active notebook kernel's current experiment (null: none; undefined: cannot tell).
   * When it changes, the panel follows it; a pick in the picker holds until it changes again.
   */
  askKernel?: () => Promise<string | null | undefined>;
}

/**
 * The sidebar's state and the only caller of the REST API.
 *
 * It polls the selected experiment (journal page, runs, ignored runs) while the
 * panel is visible, backs off after failures and tells views through `stateChanged`.
 */
export class MlexpModel extends PolledModel<IMlexpState> {
  constructor(options: IMlexpModelOptions = {}) {
    super(INITIAL_STATE, 'jupyter-mlexp:refresh', 4000, options);
    this._askKernel = options.askKernel ?? null;
  }

  /**
   * Fetch the experiment list and the selected experiment's record.
   * Rejects on failure (so the poll backs off) after putting the error in the state.
   */
  async refresh(): Promise<void> {
    const generation = this._generation;
    try {
      const kernelExperiment = this._askKernel ? await this._askKernel() : undefined;
      const list = await requestAPI<IExperimentList>('experiments');
      let selected = this._state.selected;
      const known = (name: string | null | undefined) => !!name && list.experiments.some(e => e.name === name);
      if (kernelExperiment && kernelExperiment !== this._followed && known(kernelExperiment)) {
        this._followed = kernelExperiment; // the kernel moved to another experiment: follow it
        selected = kernelExperiment;
      }
      if (!known(selected)) {
        selected = known(this._preferred)
          ? this._preferred
          : list.experiments.length > 0
            ? list.experiments[0].name
            : null;
      }
      const journalQuery =
        selected === this._state.selected
          ? this._state.journalQuery
          : { ...this._state.journalQuery, tag: '', q: '', offset: 0 };
      const record = selected ? await this._fetchRecord(selected, journalQuery) : null;
      if (generation !== this._generation) {
        return; // the user picked another experiment or filter meanwhile; that fetch wins
      }
      this._update({
        status: 'ready',
        error: null,
        experiments: same(this._state.experiments, list.experiments),
        root: list.root,
        entryTags: same(this._state.entryTags, this._entryTags(record?.journal ?? null)),
        kernelExperiment: kernelExperiment === undefined ? this._state.kernelExperiment : kernelExperiment,
        journalQuery,
        selected,
        ...(record ?? { detail: null, journal: null, runs: null, ignored: null, loops: null })
      });
    } catch (error) {
      if (generation === this._generation) {
        this._fail(error);
      }
      throw error;
    }
  }

  /** The `defaultExperiment` setting: shown when nothing else is (no pick, the kernel on none). */
  setDefaultExperiment(name: string | null): void {
    this._preferred = name || null;
  }

  /** Show another experiment. */
  async select(name: string): Promise<void> {
    if (name === this._state.selected) {
      return;
    }
    this._generation++;
    this._update({
      selected: name,
      detail: null,
      journal: null,
      runs: null,
      ignored: null,
      loops: null,
      patch: null,
      journalQuery: { tag: '', q: '', offset: 0, limit: JOURNAL_PAGE_SIZE }
    });
    await this._quietRefresh();
  }

  /** Change the journal's tag filter, search text or page; a new filter starts at the newest entry. */
  async setJournalQuery(change: Partial<IJournalQuery>): Promise<void> {
    const old = this._state.journalQuery;
    const query = { ...old, ...change };
    if (change.offset === undefined && (query.tag !== old.tag || query.q !== old.q)) {
      query.offset = 0;
    }
    query.offset = Math.max(0, query.offset);
    this._generation++;
    this._update({ journalQuery: query });
    const name = this._state.selected;
    if (!name) {
      return;
    }
    const generation = this._generation;
    try {
      const journal = await requestAPI<IJournalPage>(journalUrl(name, query));
      if (generation === this._generation) {
        this._update({ journal, entryTags: this._entryTags(journal), status: 'ready', error: null });
      }
    } catch (error) {
      this._fail(error);
    }
  }

  async addJournalEntry(text: string, tags: string[] = []): Promise<boolean> {
    const name = this._state.selected;
    if (!name || !text.trim()) {
      return false;
    }
    return this._act(() =>
      requestAPI(experimentPath(name, 'journal'), {
        method: 'POST',
        body: JSON.stringify({ text, tags })
      })
    );
  }

  async ignoreRun(runId: string, reason: string): Promise<boolean> {
    const name = this._state.selected;
    if (!name) {
      return false;
    }
    return this._act(() => actions.ignoreRun(name, runId, reason));
  }

  async unignoreRun(runId: string): Promise<boolean> {
    const name = this._state.selected;
    if (!name) {
      return false;
    }
    return this._act(() => actions.unignoreRun(name, runId));
  }

  /** Show the diff of a loop attempt (`attempts/NNNN.patch`); a failure lands in `state.error`. */
  async openAttempt(tag: string, n: number): Promise<void> {
    const name = this._state.selected;
    if (!name) {
      return;
    }
    try {
      const patch = await actions.attemptPatch(name, tag, n);
      if (name === this._state.selected) {
        this._update({ patch });
      }
    } catch (error) {
      this._fail(error);
    }
  }

  closePatch(): void {
    this._update({ patch: null });
  }

  /** Read the selected experiment's loops (stamped); the runs table asks through this while the sidebar is hidden. */
  async refreshLoops(): Promise<void> {
    const name = this._state.selected;
    if (!name) {
      return;
    }
    const loops = await actions.loops(name, this._state.loops);
    if (name === this._state.selected) {
      this._update({ loops });
    }
  }

  /** Build the selected experiment's report.ipynb; null when it failed (the reason is in `state.error`). */
  async buildReport(): Promise<IReportAnswer | null> {
    const name = this._state.selected;
    if (!name) {
      return null;
    }
    let answer: IReportAnswer | null = null;
    const ok = await this._act(async () => {
      answer = await requestAPI<IReportAnswer>(experimentPath(name, 'report'), { method: 'POST', body: '{}' });
    });
    return ok ? answer : null;
  }

  /** The experiment's record; what did not change since the last poll is the very object held (no re-render). */
  private async _fetchRecord(name: string, query: IJournalQuery) {
    const held = name === this._state.selected ? this._state : null;
    const [detail, journal, runs, ignored, loops] = await Promise.all([
      requestPolled<IExperimentDetail>(experimentPath(name), held?.detail ?? null),
      requestAPI<IJournalPage>(journalUrl(name, query)),
      requestPolled<IRunList>(experimentPath(name, 'runs'), held?.runs ?? null),
      requestAPI<IIgnoredList>(experimentPath(name, 'ignored')),
      actions.loops(name, held?.loops ?? null)
    ]);
    return {
      detail,
      journal: same(held?.journal, journal),
      runs,
      ignored: same(held?.ignored, ignored),
      loops
    };
  }

  /** The server's tag list from a journal page, else the one already shown. */
  private _entryTags(journal: IJournalPage | null): string[] {
    const served = journal?.entry_tags;
    return served && served.length > 0 ? served : this._state.entryTags;
  }

  /** Send an action, then show its effect at once; a failure lands in `state.error`, read from there. */
  private async _act(send: () => Promise<unknown>): Promise<boolean> {
    this._update({ busy: true });
    try {
      await send();
    } catch (error) {
      this._update({ busy: false });
      this._fail(error);
      return false;
    }
    this._update({ busy: false });
    await this._quietRefresh();
    return true;
  }

  private async _quietRefresh(): Promise<void> {
    try {
      await this.refresh();
    } catch {
      // already in the state; the poll keeps retrying with back-off
    }
  }

  private _fail(error: unknown): void {
    const missing = error instanceof ServerExtensionMissingError;
    this._update({
      status: error instanceof NoServerError ? 'no-server' : missing ? 'missing-extension' : 'error',
      error: error instanceof Error ? error.message : String(error)
    });
  }

  private _askKernel: (() => Promise<string | null | undefined>) | null;
  private _followed: string | null = null;
  private _preferred: string | null = null;
  private _generation = 0;
}

/** The object held when the new answer says the same (small answers, compared as JSON). */
function same<T>(held: T | null | undefined, answer: T): T {
  return held && JSON.stringify(held) === JSON.stringify(answer) ? held : answer;
}

function journalUrl(name: string, query: IJournalQuery): string {
  const params = new URLSearchParams();
  if (query.tag) {
    params.set('tag', query.tag);
  }
  if (query.q) {
    params.set('q', query.q);
  }
  params.set('offset', String(query.offset));
  params.set('limit', String(query.limit));
  return `${experimentPath(name, 'journal')}?${params.toString()}`;
}
