import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { ICourseInForce } from '../tokens';
import { english, useTrans } from '../trans';

/** `metric val_acc, baseline lr=0.1, seeds 3, budget 60 s` (a course file's locked fields, in its order). */
export function courseText(c: ICourseInForce, trans: TranslationBundle = english): string {
  const parts: string[] = [];
  if (c.metric) {
    parts.push(trans.__('metric %1', c.metric));
  }
  if (c.success) {
    parts.push(trans.__('success %1', c.success));
  }
  if (c.baseline) {
    parts.push(trans.__('baseline %1', c.baseline));
  }
  if (c.seeds !== undefined) {
    parts.push(trans.__('seeds %1', Array.isArray(c.seeds) ? c.seeds.join(', ') : c.seeds));
  }
  if (c.budget !== undefined) {
    parts.push(trans.__('budget %1 s', c.budget));
  }
  const files = Object.keys(c.data ?? {});
  if (files.length > 0) {
    parts.push(trans.__('data %1 (hash fixed)', files.join(', ')));
  }
  return parts.join(', ');
}

/** `Course ml101: metric val_acc, ...` (the course's name when the file gives one). */
export function courseLine(c: ICourseInForce, trans: TranslationBundle = english): string {
  const text = courseText(c, trans) || trans.__('no locked fields');
  return c.course ? trans.__('Course %1: %2', c.course, text) : trans.__('Course: %1', text);
}

/** The course's locked fields in the hypothesis card: read-only, what a registration here must keep. */
export function CourseFields({ course }: { course: ICourseInForce }): JSX.Element {
  const trans = useTrans();
  if (course.error) {
    return (
      <div className="jp-mlexp-course jp-mlexp-warning" aria-label={trans.__('Course')}>
        {trans.__('Course file %1 cannot be read: %2', course.file ?? '', course.error)}
      </div>
    );
  }
  const text = courseText(course, trans) || trans.__('no locked fields');
  return (
    <div
      className="jp-mlexp-course"
      aria-label={trans.__('Course')}
      title={
        course.file
          ? trans.__('Locked by %1: a hypothesis that changes these is refused', course.file)
          : trans.__('Locked by the course file: a hypothesis that changes these is refused')
      }
    >
      <span className="jp-mlexp-muted">
        {course.course ? trans.__('Course %1:', course.course) : trans.__('Course:')}{' '}
      </span>
      {text}
    </div>
  );
}
