// Playground templates: several nodes formed into a Swarm before the learner gets the prompt. A
// lesson may ask for one in its frontmatter (`template: swarm-1-2`); the server forms it
// (sandbox-server/src/sessions/swarm-template.ts), the playground offers each by its title.
export const SWARM_TEMPLATES = {
  'swarm-1-2': { title: '1 manager + 2 workers', managers: 1, workers: 2 },
  'swarm-3-2': { title: '3 managers + 2 workers', managers: 3, workers: 2 },
} as const;
export type SwarmTemplateId = keyof typeof SWARM_TEMPLATES;
export const SWARM_TEMPLATE_IDS = Object.keys(SWARM_TEMPLATES) as [SwarmTemplateId, ...SwarmTemplateId[]];
/** Nodes a template makes: its managers and workers. */
export const templateNodes = (id: SwarmTemplateId) => SWARM_TEMPLATES[id].managers + SWARM_TEMPLATES[id].workers;
