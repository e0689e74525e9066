import * as React from 'react';

import { ICourseInForce } from '../tokens';

/** `metric val_acc, baseline lr=0.1, seeds 3, budget 60 s` (a course file's locked fields, in its order). */
export function courseText(c: ICourseInForce): string {
  const parts: string[] = [];
  if (c.metric) {
    parts.push(`metric ${c.metric}`);
  }
  if (c.success) {
    parts.push(`success ${c.success}`);
  }
  if (c.baseline) {
    parts.push(`baseline ${c.baseline}`);
  }
  if (c.seeds !== undefined) {
    parts.push(`seeds ${Array.isArray(c.seeds) ? c.seeds.join(', ') : c.seeds}`);
  }
  if (c.budget !== undefined) {
    parts.push(`budget ${c.budget} s`);
  }
  const files = Object.keys(c.data ?? {});
  if (files.length > 0) {
    parts.push(`data ${files.join(', ')} (hash fixed)`);
  }
  return parts.join(', ');
}

/** The course's locked fields in the hypothesis card: read-only, what a registration here must keep. */
export function CourseFields({ course }: { course: ICourseInForce }): JSX.Element {
  const name = course.course ? ` ${course.course}` : '';
  if (course.error) {
    return (
      <div className="jp-mlexp-course jp-mlexp-warning" aria-label="Course">
        Course file {course.file ?? ''} cannot be read: {course.error}
      </div>
    );
  }
  return (
    <div
      className="jp-mlexp-course"
      aria-label="Course"
      title={`Locked by ${course.file ?? 'the course file'}: a hypothesis that changes these is refused`}
    >
      <span className="jp-mlexp-muted">Course{name}: </span>
      {courseText(course) || 'no locked fields'}
    </div>
  );
}
