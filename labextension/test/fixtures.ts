import { IClassAnswer, IClassRow } from '../src/classview/tokens';
import {
  IAttemptPatch,
  IExperimentDetail,
  IIgnoredList,
  IJournalPage,
  ILoopAttempt,
  ILoopList,
  IMlexpState,
  IRun,
  IRunList,
  IGroupsAnswer,
  IRunsTable,
  ITableRun
} from '../src/tokens';

export const detail: IExperimentDetail = {
  name: 'demo',
  hypothesis: {
    statement: 'Dropout 0.3 improves validation accuracy',
    success: 'acc >= 0.9',
    failure: null,
    metrics: ['acc', 'loss'],
    stage: 'implementation',
    baseline: null,
    expected: null,
    version: 2,
    created: '2026-11-22T10:00:00+00:00',
    last_updated: '2026-11-22T11:00:00+00:00',
    update_reason: 'stricter bar'
  },
  primary_metric: 'acc',
  history: [],
  verdict: {
    decision: 'supported',
    reason: 'the lower bound 0.91 is above 0.9',
    mode: 'full',
    intervals: { 'lr=0.1': '[0.91, ∞)' }
  },
  criterion_check: { result: 'met', run_id: 'f-1', mode: 'full', metric: 'acc', value: 0.93 },
  counts: { runs: 3, quick: 2, full: 1, ignored: 1 }
};

/**
 * The server's `entry_tags` (Python's `jupyter_mlexp.core.record.journal.TAGS`), as a journal page carries them.
 * tests/server/test_frontend_fixtures.py fails when the two differ.
 */
export const ENTRY_TAGS = ['WEIRD', 'HUNCH', 'TODO', 'RESOLVED', 'LESSON'];

export const journal: IJournalPage = {
  entries: [
    {
      timestamp: '2026-11-22T12:00:00+00:00',
      tags: ['WEIRD'],
      unknown_tags: [],
      title: '',
      text: 'loss spiked at step 40',
      line: 9
    },
    {
      timestamp: '2026-11-22T11:00:00+00:00',
      tags: ['PLANNED'],
      unknown_tags: [],
      title: '',
      text: 'Hypothesis v1',
      line: 5
    }
  ],
  total: 2,
  offset: 0,
  limit: 50,
  tags: { WEIRD: 1, PLANNED: 1 },
  warnings: [],
  entry_tags: ENTRY_TAGS
};

export function run(run_id: string, mode: string, value: number | null, ignored_reason: string | null = null): IRun {
  return {
    run_id,
    mode,
    status: 'completed',
    stage: 'implementation',
    params: { lr: 0.1 },
    config: 'lr=0.1',
    seed: 1,
    started: null,
    duration_s: 1,
    primary_metric: 'acc',
    primary_value: value,
    verdict: null,
    ignored: ignored_reason !== null,
    ignored_reason,
    path: `${mode}/${run_id}`
  };
}

export const runs: IRunList = {
  primary_metric: 'acc',
  runs: [run('q-1', 'quick', 0.7, 'data loader bug'), run('q-2', 'quick', 0.75), run('f-1', 'full', 0.93)]
};

export const ignored: IIgnoredList = {
  ignored: [
    { run_id: 'q-1', reason: 'data loader bug', when: '2026-11-22T12:30:00+00:00', line: 5, source: 'IGNORED_RUNS.md' }
  ],
  warnings: []
};

export const experiments = {
  root: '/srv/work',
  experiments: [
    { name: 'demo', statement: 'Dropout 0.3 improves validation accuracy', version: 2, stage: 'implementation' },
    { name: 'other', statement: 'Wider nets help', version: 1, stage: 'baselines' }
  ]
};

export function attempt(
  n: number,
  status: string,
  metric: number | null,
  change: Partial<ILoopAttempt> = {}
): ILoopAttempt {
  return {
    attempt: n,
    status,
    description: n === 0 ? 'baseline' : `change ${n}`,
    commit: `c${n}abcdef0123`,
    metric,
    sd: metric === null ? null : 0.01,
    seeds: [0, 1],
    delta: null,
    p: null,
    test: '',
    reason: status === 'keep' ? 'better' : status === 'discard' ? 'no better (p = 0.41)' : 'ImportError',
    lines: [1, 1],
    duration_s: 3,
    running_best: null,
    has_patch: n > 0,
    ...change
  };
}

export const loops: ILoopList = {
  stamp: 'l1',
  loops: [
    {
      tag: 'tune',
      metric: 'val_loss',
      direction: 'lower is better',
      attempts: 7,
      counts: { keep: 3, discard: 3, crash: 1 },
      best: { attempt: 4, mean: 0.271, sd: 0.004, commit: 'c4abcdef0123' },
      attempts_list: [
        attempt(0, 'keep', 0.31),
        attempt(1, 'keep', 0.3),
        attempt(2, 'discard', 0.32),
        attempt(3, 'crash', null),
        attempt(4, 'keep', 0.271),
        attempt(5, 'discard', 0.28),
        attempt(6, 'discard', 0.29)
      ]
    }
  ]
};

export const patch: IAttemptPatch = {
  tag: 'tune',
  attempt: 5,
  patch: '--- a/train.py\n+++ b/train.py\n@@ -1 +1 @@\n-lr = 0.1\n+lr = 0.2\n',
  truncated: false
};

export function readyState(change: Partial<IMlexpState> = {}): IMlexpState {
  return {
    status: 'ready',
    error: null,
    experiments: experiments.experiments,
    root: experiments.root,
    selected: 'demo',
    detail,
    journal,
    journalQuery: { tag: '', q: '', offset: 0, limit: 50 },
    runs,
    ignored,
    entryTags: ENTRY_TAGS,
    loops: null,
    patch: null,
    kernelExperiment: null,
    busy: false,
    ...change
  };
}

export function tableRun(
  run_id: string,
  params: { [key: string]: unknown },
  metrics: { [metric: string]: number | null },
  change: Partial<ITableRun> = {}
): ITableRun {
  const config = Object.entries(params)
    .sort()
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
  return {
    run_id,
    mode: 'full',
    status: 'completed',
    stage: 'implementation',
    params,
    config,
    seed: 1,
    started: null,
    duration_s: 1,
    metrics,
    ...change
  };
}

export const runsTable: IRunsTable = {
  primary_metric: 'acc',
  metrics: ['acc', 'loss'],
  params: ['lr'],
  runs: [
    tableRun('r-1', { lr: 0.1 }, { acc: 0.8, loss: 0.5 }, { seed: 1 }),
    tableRun('r-2', { lr: 0.1 }, { acc: 0.9, loss: 0.4 }, { seed: 2 }),
    tableRun('r-3', { lr: 0.01 }, { acc: 0.7, loss: null }, { seed: 1 }),
    tableRun(
      'r-4',
      { lr: 0.01 },
      { acc: 0.1, loss: 2 },
      { seed: 2, status: 'failed', ignored: true, ignored_reason: 'nan' }
    )
  ]
};

/** GET .../table/groups as core.views.config_groups sends it: the verdict's counting (the failed, ignored r-4 not counted). */
export const runsGroups: IGroupsAnswer = {
  members: {},
  groups: [
    {
      mode: 'full',
      stage: 'implementation',
      config: 'lr=0.1',
      counted: ['r-1', 'r-2'],
      duplicates: [],
      metrics: { acc: { mean: 0.85, sd: Math.sqrt(0.005), n: 2 }, loss: { mean: 0.45, sd: Math.sqrt(0.005), n: 2 } }
    },
    {
      mode: 'full',
      stage: 'implementation',
      config: 'lr=0.01',
      counted: ['r-3'],
      duplicates: [],
      metrics: { acc: { mean: 0.7, sd: null, n: 1 }, loss: null }
    }
  ]
};

/** A collected class (`GET class?dir=`): five students, each flag once, one with HTML in its record. */
export function classRow(student: string, change: Partial<IClassRow> = {}): IClassRow {
  return {
    student,
    experiment: 'warmup',
    verdict: 'supported',
    n: 'lr=0.1 [full]: n=3',
    reason: 'the lower bound 0.93 is above 0.9',
    verdict_with_ignored: 'supported',
    verdict_first_version: null,
    runs: { quick: 1, full: 3, failed: 0, ignored: 0 },
    hypothesis_versions: 1,
    statement: 'Warm-up raises validation accuracy on digits.',
    success: 'val_acc >= 0.9',
    verified: true,
    flags: [],
    findings: [],
    changed_after_runs: [],
    ignored: [],
    reused_seeds: [],
    course: [],
    missing: [],
    problem: null,
    source: `snapshots/0001/students/${student}/experiments/warmup/`,
    ...change
  };
}

export const CLASS_ROWS = [
  classRow('proper'),
  classRow('loosened', {
    flags: ['changed after runs'],
    changed_after_runs: ['criterion loosened after 3 runs: val_acc >= 0.99 → val_acc >= 0.9 (0.99 was too ambitious)'],
    verdict_first_version: 'not supported',
    hypothesis_versions: 2
  }),
  classRow('reordered', {
    verified: false,
    flags: ['record altered'],
    findings: ['✗ research_log.jsonl:1: entry 1: it carries seq 2 where 1 follows (entries were moved)']
  }),
  classRow('quickonly', {
    verdict: 'inconclusive',
    n: 'n=0',
    runs: { quick: 4, full: 0, failed: 1, ignored: 0 },
    flags: ['no full runs']
  }),
  classRow('<b>mallory</b>', {
    verdict: 'inconclusive',
    flags: ['ignored run changes verdict', 'reused exploration seeds'],
    statement: '<img src=x onerror="window.pwned=1">',
    ignored: [{ run_id: 'r1', reason: '<script>window.pwned=1</script>' }],
    reused_seeds: ['lr=0.1 [full]: seed 0, 1, 2'],
    runs: { quick: 0, full: 3, failed: 0, ignored: 1 },
    verdict_with_ignored: 'not supported'
  })
];

export const CLASS_ANSWER: IClassAnswer = {
  dir: 'teaching/ml101-class',
  collection: 2,
  time: '2026-11-21T10:00:00+00:00',
  snapshots: 2,
  students: 5,
  course: { course: 'ml101', metric: 'val_acc', baseline: 'lr=0.1', seeds: 3, budget: 60 },
  verdicts: { inconclusive: 2, supported: 3 },
  flags: {
    'changed after runs': 1,
    'ignored run changes verdict': 1,
    'no full runs': 1,
    'record altered': 1,
    'reused exploration seeds': 1
  },
  reports: ['class_report.ipynb', 'class_table.csv'],
  rows: CLASS_ROWS
};
