/**
 * Response types of the REST API under `<base_url>/mlexp/api/`.
 * They mirror `jupyter_mlexp/frontdoors/server/record_views.py`; `docs/rest-api.yaml` documents them.
 */

export interface IExperimentSummary {
  name: string;
  statement: string | null;
  version: number | null;
  stage: string | null;
  error?: string;
}

export interface IExperimentList {
  root: string;
  experiments: IExperimentSummary[];
}

export interface IHypothesis {
  statement: string;
  success: string;
  failure: string | null;
  metrics: string[];
  stage: string;
  baseline: string | null;
  expected: string | null;
  version: number;
  created: string | null;
  last_updated: string | null;
  update_reason: string | null;
}

export interface IHistoryEntry extends IHypothesis {
  changes: string[];
}

/** The one verdict engine's answer (`core.verdict`), over every counted run of a mode. */
export interface ICoreVerdict {
  /** 'supported', 'not supported' or 'inconclusive'. */
  decision: string;
  reason: string;
  criterion?: string | null;
  mode?: string | null;
  level?: number | null;
  configurations?: string[];
  /** Each configuration's interval, as text, by its label. */
  intervals?: { [label: string]: string };
  test?: string | null;
  would_decide?: string | null;
  /** Quick runs alone: what they suggest (the verdict itself is inconclusive until full runs count). */
  quick_suggests?: {
    decision: string;
    reason: string;
    would_decide?: string | null;
  } | null;
  flags?: string[];
  sources?: string[];
}

/** One configuration of the verdict's forest: its estimate and the verdict's own one-sided bound. */
export interface IForestRow {
  configuration: string;
  estimate: number;
  bound: number | null;
  bound_level: number | null;
  bound_side: 'lower' | 'upper';
  n: number;
  values: number[];
  subject: boolean;
  judged: boolean;
}

export interface IForest {
  metric: string;
  relative: boolean;
  criterion: string;
  threshold: number;
  decision: string;
  configurations: IForestRow[];
}

export interface ICriterionCheck {
  /** 'met', 'not met' or 'not measured'. */
  result: string;
  run_id: string;
  mode: string;
  metric: string;
  value: number | null;
}

export interface IExperimentDetail extends IStamped {
  name: string;
  hypothesis: IHypothesis | null;
  primary_metric: string | null;
  history: IHistoryEntry[];
  /** The experiment's one verdict (`core.verdict.judge_experiment`); null without a hypothesis. */
  verdict: ICoreVerdict | null;
  /** The verdict in one line under 120 characters (`core.headline`), the same on every surface. */
  headline?: string | null;
  /** The verdict's forest (`core.forest`): the numbers the report's forest figure draws. */
  forest?: IForest | null;
  /** The latest counted run checked against the success criterion (not the verdict). */
  criterion_check?: ICriterionCheck | null;
  counts: { runs: number; quick: number; full: number; ignored: number };
  /** The course's locked fields a registration here is checked against (course.yaml); null: no course. */
  course?: ICourseInForce | null;
}

/** Who wrote an entry or a line: the Unix user (authoritative) and JUPYTERHUB_USER beside it when it was set (a
 * label, not a permission). Null for one written before authors were recorded. */
export interface IAuthor {
  user: string;
  jupyterhub_user?: string;
}

export interface IJournalEntry {
  timestamp: string | null;
  tags: string[];
  unknown_tags: string[];
  title: string;
  text: string;
  line: number;
  author?: IAuthor | null;
  /** Characters of the whole entry text. */
  length?: number;
  /** The text was cut to the page's share (it ends with "…"); JOURNAL.md keeps it whole. */
  truncated?: boolean;
}

export interface IJournalPage {
  entries: IJournalEntry[];
  total: number;
  offset: number;
  limit: number;
  /** Every tag in the journal and how many entries carry it. */
  tags: { [tag: string]: number };
  warnings: string[];
  /** The tags a researcher writes by hand (the one Python list); older servers leave it out. */
  entry_tags?: string[];
}

export interface IRun {
  run_id: string;
  mode: string;
  status: string;
  stage: string | null;
  params: { [key: string]: unknown };
  overrides?: { [key: string]: unknown };
  /** The configuration's label as the core writes it (`act=relu, lr=0.1`): params and overrides, no seed. */
  config: string;
  seed: number | null;
  started: string | null;
  duration_s: number | null;
  primary_metric: string | null;
  primary_value: number | null;
  /** The run's own check against the criterion (`verdict` on servers before 0.2). */
  criterion_check?: string | null;
  verdict?: string | null;
  problem?: string | null;
  ignored: boolean;
  ignored_reason: string | null;
  path: string;
}

export interface IRunList extends IStamped {
  primary_metric: string | null;
  runs: IRun[];
}

export interface IIgnoredRun {
  run_id: string;
  reason: string;
  when: string | null;
  line: number | null;
  source: string;
  author?: IAuthor | null;
}

export interface IIgnoredList {
  ignored: IIgnoredRun[];
  warnings: string[];
}

/** What the journal shows: a tag filter, a search text and the first entry of the page. */
export interface IJournalQuery {
  tag: string;
  q: string;
  offset: number;
  limit: number;
}

/** Where the panel stands with the server. */
export type ConnectionStatus = 'loading' | 'ready' | 'missing-extension' | 'no-server' | 'error';

/** Everything the sidebar renders; owned by `MlexpModel`. */
export interface IMlexpState {
  status: ConnectionStatus;
  /** The last failure, shown until a request succeeds again. */
  error: string | null;
  experiments: IExperimentSummary[];
  root: string | null;
  selected: string | null;
  detail: IExperimentDetail | null;
  journal: IJournalPage | null;
  journalQuery: IJournalQuery;
  runs: IRunList | null;
  ignored: IIgnoredList | null;
  /** Tags the add-entry box offers: the server's list (`entry_tags`); empty until it answered. */
  entryTags: string[];
  /** The experiment's keep/discard loops (polled, stamped); null until read or when they cannot be. */
  loops: ILoopList | null;
  /** The diff of the loop attempt opened in the sidebar. */
  patch: IAttemptPatch | null;
  /** The experiment the active notebook's kernel works on, when known. */
  kernelExperiment: string | null;
  /** An action (ignore, add entry...) being sent, to disable its buttons meanwhile. */
  busy: boolean;
}

/** What a polled answer carries: its stamp; `unchanged` when the `since` sent is still it. */
export interface IStamped {
  stamp?: string;
  unchanged?: boolean;
}

/** A run as the runs table lists it, each fact once: empty optional fields are left out. */
export interface ITableRun {
  run_id: string;
  mode: string;
  status: string;
  /** The configuration: parameters and a quick run's overrides, no seed. */
  params: { [key: string]: unknown };
  /** The configuration's name, `lr=0.1, momentum=0.9`. */
  config: string;
  seed: number | null;
  started: string | null;
  duration_s: number | null;
  /** Every metric's last value (a running run's summary lags its metrics.jsonl). */
  metrics: { [metric: string]: number | null };
  stage?: string | null;
  criterion_check?: string | null;
  ignored?: boolean;
  ignored_reason?: string | null;
  problem?: string | null;
}

export interface IRunsTable extends IStamped {
  primary_metric: string | null;
  /** The hypothesis' metrics first, then the others the runs logged. */
  metrics: string[];
  params: string[];
  runs: ITableRun[];
}

/** The table grouped by configuration (`GET .../table/groups`, asked for only when grouped). */
export interface IGroupsAnswer extends IStamped {
  /** Per (mode, stage, configuration), counted as the verdict counts (`core.views.config_groups`). */
  groups: IServerGroup[];
  /** A run's group when it is not its own configuration's label (a quick run's without its overrides). */
  members: { [runId: string]: string };
}

/** A configuration's counted runs (each seed once) and each metric's mean, sd and n over them. */
export interface IServerGroup {
  mode: string;
  stage: string;
  config: string;
  counted: string[];
  duplicates: string[];
  metrics: { [metric: string]: { mean: number; sd: number | null; n: number } | null };
}

export interface IRunError {
  name?: string;
  message?: string;
  traceback?: string;
  cell?: number | string | null;
}

export interface IRunDetail {
  run: ITableRun;
  manifest: { [key: string]: unknown };
  error: IRunError | null;
  files: { name: string; size: number }[];
  /** The last part of run.log, stdout.txt, stderr.txt. */
  logs: { [file: string]: string | null };
  /** A file's path below the Jupyter server's root, to open it in a tab; null when outside. */
  open_paths: { [file: string]: string | null };
}

/** Metric points from a byte offset of a run's metrics.jsonl on; with `?points=N`, the rest of the file sampled. */
export interface IMetricChunk {
  run_id: string;
  status: string;
  series: { [metric: string]: [number, number][] };
  offset: number;
  next_offset: number;
  size: number;
  reset: boolean;
  /** Lines that were not a metric record (skipped), and NaN/inf values read (counted, not drawn). */
  skipped?: number;
  nonfinite?: number;
  /** A metric had more points than asked for: `series` holds the lowest and highest point of each bucket. */
  sampled?: boolean;
  /** Per metric, the finite points read (more than `series` holds when sampled). */
  points?: { [metric: string]: number };
  /** One line naming the file and its first malformed line, when lines were skipped. */
  problem?: string | null;
  /**
   * The first sampled read of a long file: evenly spaced parts of it, `points` (and `skipped`, `nonfinite`)
   * estimated. The server reads it exactly meanwhile: ask for the sample again.
   */
  approximate?: boolean;
}

export interface IReportAnswer {
  report: string;
  open_path: string | null;
  /** Set when the old report.ipynb was kept aside as report.ipynb.bak, and why. */
  note?: string | null;
}

/** One attempt of a keep/discard loop. */
export interface ILoopAttempt {
  attempt: number;
  status: string;
  description: string;
  commit: string;
  metric: number | null;
  sd: number | null;
  seeds: number[];
  delta: number | null;
  p: number | null;
  test: string;
  reason: string;
  lines: [number, number];
  duration_s: number | null;
  running_best: number | null;
  has_patch: boolean;
}

export interface ILoop {
  tag: string;
  metric?: string;
  direction?: string;
  attempts?: number;
  counts?: { [status: string]: number };
  best?: { attempt: number; mean: number | null; sd?: number | null; commit?: string } | null;
  attempts_list?: ILoopAttempt[];
  /** Why the loop could not be read. */
  problem?: string;
}

export interface ILoopList extends IStamped {
  loops: ILoop[];
}

export interface IAttemptPatch {
  tag: string;
  attempt: number;
  patch: string;
  truncated: boolean;
}

/** A course file's locked fields (`core.course.Course.to_dict`), as the experiment detail names them. */
export interface ICourseInForce {
  course?: string;
  metric?: string;
  success?: string;
  baseline?: string;
  seeds?: number | number[];
  budget?: number;
  data?: { [file: string]: string };
  /** The file's name (never its path) and hash; `error` when it cannot be read. */
  file?: string;
  sha256?: string;
  error?: string;
}
