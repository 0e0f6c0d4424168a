// Astro builds the site into static pages served by the sandbox server; lessons are MDX in content/.
import { satteri } from '@astrojs/markdown-satteri';
import mdx from '@astrojs/mdx';
import { defineConfig } from 'astro/config';
import { openInPlayground } from './src/lib/open-in-playground-plugin.ts';

/**
 * Monaco's stylesheets go into the editor's own lazy chunk and are added to the page when it runs.
 * Astro links the CSS of every module a page's script can reach, dynamic imports included, so as
 * plain CSS they would load on every lesson page before the learner opens the editor.
 */
const monacoStylesInEditorChunk = {
  name: 'dockyard:monaco-styles',
  enforce: 'pre',
  async resolveId(source, importer) {
    if (!importer?.includes('/node_modules/monaco-editor/') || !source.endsWith('.css')) return null;
    const css = await this.resolve(source, importer, { skipSelf: true });
    return css && `\0monaco-style:${css.id}.js`;
  },
  load(id) {
    if (!id.startsWith('\0monaco-style:')) return null;
    const css = JSON.stringify(`${id.slice('\0monaco-style:'.length, -'.js'.length)}?inline`);
    return `import text from ${css};\nconst style = document.createElement('style');\nstyle.textContent = text;\ndocument.head.append(style);\n`;
  },
};

/**
 * `npm run dev` (infra/setup/main.ts) runs the server beside `astro dev` and names it here: the dev
 * server passes the API and its WebSockets on, so lessons reload as they are edited while the
 * terminals, checks and previews are real. Unset for `astro build`.
 */
const api = process.env.DOCKYARD_DEV_API;

export default defineConfig({
  outDir: './dist',
  trailingSlash: 'ignore',
  build: { format: 'directory' },
  devToolbar: { enabled: false },
  integrations: [mdx()],
  // Code in lessons follows the page's theme, in themes whose every colour (comments included) reads
  // at 4.5:1 or better on their own background; github-dark's comments did not (axe).
  markdown: {
    // A lesson's code block marked file=NAME gets an "Open in playground" link (src/lib/examples.ts).
    processor: satteri({ mdastPlugins: [openInPlayground] }),
    shikiConfig: { themes: { light: 'github-light-default', dark: 'github-dark-default' }, defaultColor: 'light' },
  },
  vite: {
    plugins: [monacoStylesInEditorChunk],
    ...(api ? { server: { proxy: { '/api': { target: api, ws: true, changeOrigin: false } } } } : {}),
  },
});
