// Public entry of @dockyard/content: the course outline, the exercises and their schemas.
export * from './course.ts';
export * from './outline.ts';
export * from './checks.ts';
export * from './exercises.ts';
export * from './lessons.ts';
export * from './templates.ts';
