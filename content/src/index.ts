// Public entry of @dockyard/content: the course outline and its schemas.
export * from './course.ts';
export * from './outline.ts';
