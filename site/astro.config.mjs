// Astro builds the site into static pages served by the sandbox server.
import { defineConfig } from 'astro/config';

export default defineConfig({
  outDir: './dist',
  trailingSlash: 'ignore',
  build: { format: 'directory' },
  devToolbar: { enabled: false },
});
