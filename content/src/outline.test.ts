// The outline follows the curriculum and the schema rejects what the site could not render.
import { describe, expect, it } from 'vitest';
import { courseSchema } from './course.ts';
import { lessons, outline } from './outline.ts';

describe('course outline', () => {
  it('has nine modules and 28 lessons, as in the curriculum', () => {
    expect(outline).toHaveLength(9);
    expect(lessons).toHaveLength(28);
    expect(lessons[0]).toMatchObject({ slug: 'the-problem', module: { slug: 'why-containers' } });
  });

  it('rejects a duplicated lesson slug with a message naming it', () => {
    const dup = { slug: 'm', title: 'Module', summary: 'A module summary.', lessons: [{ slug: 'a', title: 'Lesson' }] };
    const result = courseSchema.safeParse([dup, { ...dup, slug: 'n' }]);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('Lesson slug "a" is used twice');
  });

  it('rejects slugs that are not kebab-case', () => {
    const bad = [
      { slug: 'Bad Slug', title: 'Module', summary: 'A module summary.', lessons: [{ slug: 'a', title: 'Lesson' }] },
    ];
    expect(courseSchema.safeParse(bad).success).toBe(false);
  });
});
