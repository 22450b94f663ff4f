/**
 * Builds the clinician web view into web/dist (`npm run build:web`). Relative asset addresses, so the
 * same build serves at /web/ locally and at the root of the stage's static hosting. The design system's
 * stylesheet is taken from the installed package, its images bundled, and its web fonts (served from
 * assets.nhs.uk, licensed for NHS sites) left out: the page's policy allows nothing from elsewhere.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const images = fileURLToPath(
  new URL('../node_modules/nhsuk-frontend/dist/nhsuk/assets/images/', import.meta.url),
);

function nhsukStylesheet(): Plugin {
  return {
    name: 'nhsuk-stylesheet',
    enforce: 'pre',
    transform(code, id) {
      if (!/nhsuk-frontend[^/]*\.min\.css$/.test(id)) return undefined;
      return (
        code
          .replace(/@font-face\{[^}]*assets\.nhs\.uk[^}]*\}/g, '')
          // Old Internet Explorer hacks (`@media screen\0`), which the minifier cannot parse.
          .replace(/@media screen\\0[^{]*\{(?:[^{}]*\{[^}]*\})*[^{}]*\}/g, '')
          .replace(/\/\*# sourceMappingURL=[^*]*\*\//g, '')
          .replaceAll('url(/assets/images/', `url(${images}`)
      );
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [nhsukStylesheet()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Files, not data: addresses: the policy allows images from the page's own origin only.
    assetsInlineLimit: 0,
    sourcemap: false,
    modulePreload: { polyfill: false },
  },
  logLevel: 'warn',
});
