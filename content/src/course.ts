// The course outline: modules and their lessons, validated by a zod schema.
import { z } from 'zod';

export const lessonRefSchema = z.object({
  slug: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .describe('URL segment of the lesson, kebab-case'),
  title: z.string().min(3).describe('Lesson title as shown in the outline'),
});

export const moduleSchema = z.object({
  slug: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .describe('URL segment of the module, kebab-case'),
  title: z.string().min(3).describe('Module title'),
  summary: z.string().min(10).describe('One sentence on what the learner can do after it'),
  lessons: z.array(lessonRefSchema).min(1).describe('Lessons in reading order'),
});

export const courseSchema = z
  .array(moduleSchema)
  .min(1)
  .superRefine((modules, ctx) => {
    const seen = new Set<string>();
    for (const m of modules) {
      for (const l of m.lessons) {
        if (seen.has(l.slug)) ctx.addIssue({ code: 'custom', message: `Lesson slug "${l.slug}" is used twice` });
        seen.add(l.slug);
      }
    }
  })
  .describe('The whole course, modules in order');

export type LessonRef = z.infer<typeof lessonRefSchema>;
export type CourseModule = z.infer<typeof moduleSchema>;
