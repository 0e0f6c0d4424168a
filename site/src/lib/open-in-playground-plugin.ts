// A Markdown (mdast) plugin for the lessons: after each code block marked `file=NAME`, an
// <OpenInPlayground> (src/components/mdx/OpenInPlayground.astro) linking to that example in the
// playground, its id made as examples.ts makes the ids of /playground/examples.json.
import type { SatteriProcessorOptions } from '@astrojs/markdown-satteri';
import { exampleId, fileOfMeta } from './examples.ts';

type PluginEntry = NonNullable<SatteriProcessorOptions['mdastPlugins']>[number];

const attribute = (name: string, value: string) => ({ type: 'mdxJsxAttribute' as const, name, value });

/** Only the lessons (content/lessons/<slug>.mdx) get the links: their slug is in every id. */
export const openInPlayground: PluginEntry = ({ fileURL }) => {
  const lesson = /\/content\/lessons\/([\w-]+)\.mdx$/.exec(fileURL?.pathname ?? '')?.[1];
  if (!lesson) return null;
  return {
    name: 'dockyard-open-in-playground',
    code(node, ctx) {
      const file = fileOfMeta(node.meta);
      if (!file) return;
      ctx.insertAfter(node, {
        type: 'mdxJsxFlowElement',
        name: 'OpenInPlayground',
        attributes: [attribute('example', exampleId(lesson, file)), attribute('file', file)],
        children: [],
      });
    },
  };
};
