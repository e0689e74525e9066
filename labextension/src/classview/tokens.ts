/**
 * The class view's answer: `GET mlexp/api/class?dir=FOLDER` (`jupyter_mlexp/classroom/class_view.py`),
 * and the class workspaces under the server root (`GET mlexp/api/class`). `docs/rest-api.yaml` documents them.
 * Every string in them comes from students' records: the view shows it as text, never as HTML.
 */

import { ICourseInForce } from '../tokens';

/** One student's experiment, as the class report's table states it, with what each flag rests on. */
export interface IClassRow {
  student: string;
  experiment: string;
  /** The one verdict (`core.verdict.judge_experiment`): 'supported', 'not supported', 'inconclusive'. */
  verdict: string;
  /** Runs per judged configuration, e.g. `lr=0.1 [full]: n=3`. */
  n: string;
  reason: string;
  verdict_with_ignored: string;
  /** The verdict under the first registered version, when the criterion changed after runs. */
  verdict_first_version: string | null;
  runs: { quick: number; full: number; failed: number; ignored: number };
  hypothesis_versions: number;
  statement: string | null;
  success: string | null;
  /** `mlexp verify` (with the collections' heads) found nothing broken. */
  verified: boolean;
  /** The audit's flags, short: 'record altered', 'changed after runs', 'ignored run changes verdict', ... */
  flags: string[];
  /** The verification's broken findings, one line each. */
  findings: string[];
  changed_after_runs: string[];
  ignored: { run_id: string; reason: string }[];
  reused_seeds: string[];
  /** How the experiment contradicts the course file, one phrase each. */
  course: string[];
  /** Files the collection could not bring (nbgrader's size limit), one line each. */
  missing: string[];
  problem: string | null;
  /** The experiment's folder, relative to the class workspace. */
  source: string;
}

export interface IClassAnswer {
  /** The class workspace, relative to the server root. */
  dir: string;
  collection: number | null;
  time: string | null;
  snapshots: number;
  students: number;
  /** The course file of the class workspace (course.yaml), its locked fields. */
  course: ICourseInForce | null;
  /** How many rows have each verdict, and each flag. */
  verdicts: { [verdict: string]: number };
  flags: { [flag: string]: number };
  /** What `mlexp class report` wrote in the workspace (class_report.ipynb, .html, class_table.csv). */
  reports: string[];
  rows: IClassRow[];
}

export interface IClassWorkspaces {
  /** Class workspaces under the server root, relative to it. */
  workspaces: string[];
}
