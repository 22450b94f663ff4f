/**
 * The clinician web view's budget. Its JavaScript and CSS together, compressed (gzip and brotli at their
 * highest levels, as a CDN serves them), from a fresh build with `npm run build:web`'s configuration
 * into the scratch directory (web/dist, which a running `npm start` serves, is left alone). Then, full
 * runs only, the page in a real browser (Chromium, headless) served by the bench's service and signed in
 * at the local identity provider: from the click on "Open the details" to the details shown (the screen
 * switched and painted), p95, against the lookup's own latency measured in the same run, alternating:
 * the same notifying lookup (B0107) of a child with plans, one at a time, from this process.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { buildWebView } from '../../local/web-view';
import { benchNhsNumber } from '../../testkit/nhs-numbers';
import { longLivedToken } from '../../testkit/tokens';
import { clinicianClaims } from '../lib/callers';
import { ensureLookupPool } from '../lib/fixtures';
import { SEED_RANGES } from '../lib/nhs';
import { summarize } from '../lib/stats';
import type { BenchContext, Measurement } from '../lib/types';

const BUDGET_KB = 150;
const CHROMIUM = '/usr/bin/chromium';
/** The test user the browser signs in as (local/test-users.json): u1, B0107 only. */
const PROFILE = 'Dr Ada Lovelace — Staff Nurse at Example Hospitals NHS Trust (B0107)';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

async function measureBundle(ctx: BenchContext): Promise<void> {
  const outDir = path.join(ctx.workDir, 'web-dist');
  await buildWebView(outDir);
  const assets = path.join(outDir, 'assets');
  const files = (await readdir(assets)).filter((name) => /\.(js|css)$/.test(name));
  const sizes = await Promise.all(
    files.map(async (name) => {
      const content = await readFile(path.join(assets, name));
      const [gzipped, brotli] = await Promise.all([
        gzipAsync(content, { level: 9 }),
        brotliAsync(content, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: 11,
            [constants.BROTLI_PARAM_SIZE_HINT]: content.length,
          },
        }),
      ]);
      return { name, raw: content.length, gzip: gzipped.length, brotli: brotli.length };
    }),
  );
  const total = (key: 'raw' | 'gzip' | 'brotli') => sizes.reduce((sum, file) => sum + file[key], 0);
  const kb = (bytes: number) => Math.round(bytes / 100) / 10;
  for (const encoding of ['gzip', 'brotli'] as const)
    ctx.record({
      id: `web-view.bundle.${encoding}`,
      label: `web view JavaScript + CSS, ${encoding === 'gzip' ? 'gzip -9' : 'brotli -q 11'}`,
      unit: 'KB',
      value: kb(total(encoding)),
      baseline: { label: 'uncompressed', value: kb(total('raw')) },
      target: { kind: 'value', op: '<=', limit: BUDGET_KB },
      details: { files: sizes, kilobyte: 1000 },
    });
}

/**
 * In the page: clicks "Open the details" and resolves with the milliseconds until the details screen is
 * shown and painted (the next frame, then a task queued in it). A string, because tsx wraps named functions in a helper the page lacks.
 */
const TIME_OPEN_DETAILS = `new Promise((resolve, reject) => {
  const app = document.getElementById('app');
  const button = document.getElementById('open-details');
  if (!app || !button) return reject(new Error('no Open the details button'));
  const started = performance.now();
  new MutationObserver((_, observer) => {
    if (app.dataset.screen === 'details') {
      observer.disconnect();
      // The next frame, then a task queued in it: runs once that frame is painted.
      requestAnimationFrame(() => {
        const channel = new MessageChannel();
        channel.port1.onmessage = () => resolve(performance.now() - started);
        channel.port2.postMessage(null);
      });
    } else if (app.dataset.screen !== 'alert') {
      observer.disconnect();
      reject(new Error('the page showed ' + app.dataset.screen));
    }
  }).observe(app, { attributes: true, attributeFilter: ['data-screen'] });
  button.click();
})`;

/** Waits until the page shows `screen`. */
async function screen(page: import('playwright-core').Page, name: string): Promise<void> {
  await page.waitForSelector(`#app[data-screen="${name}"]`);
}

async function measureBrowser(ctx: BenchContext, samples: number): Promise<void> {
  const { chromium } = await import('playwright-core');
  const { ensureWebViewBuilt, WEB_PATH } = await import('../../local/web-view');
  await ensureWebViewBuilt();
  await ensureLookupPool(ctx);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  try {
    const context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${ctx.server.url}${WEB_PATH}`);
    await screen(page, 'signed-out');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('select#role-profile');
    await page.getByLabel('Role profile').selectOption({ label: PROFILE });
    await page.getByRole('button', { name: 'Sign in' }).click();
    await screen(page, 'search');

    // The same lookup from this process, by a clinician holding the same permission code.
    const token = await longLivedToken(clinicianClaims(['B0107']));
    const lookup = async (nhsNumber: string) => {
      const started = performance.now();
      const response = await fetch(`${ctx.server.url}/v1/children/${nhsNumber}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`web-view: lookup answered ${response.status}`);
      return performance.now() - started;
    };
    /** Checks for an alert, then times "Open the details" until the details are on screen and painted. */
    const openDetails = async (nhsNumber: string) => {
      await page.getByLabel('What is the NHS number?').fill(nhsNumber);
      await page.getByRole('button', { name: 'Check for an alert' }).click();
      await screen(page, 'alert');
      const ms = (await page.evaluate(TIME_OPEN_DETAILS)) as number;
      await page.getByRole('button', { name: 'Check another NHS number' }).first().click();
      await screen(page, 'search');
      return ms;
    };
    const pool = ctx.settings.lookupPool;
    const child = (i: number) => benchNhsNumber(SEED_RANGES.lookup + ((i * 7919) % pool));
    // Untimed: the first of each warms the connections and the page's code.
    await lookup(child(0));
    await openDetails(child(1));
    const browserMs: number[] = [];
    const lookupMs: number[] = [];
    for (let i = 0; i < samples; i++) {
      const order = i % 2 === 0;
      if (order) lookupMs.push(await lookup(child(2 * i + 2)));
      browserMs.push(await openDetails(child(2 * i + 3)));
      if (!order) lookupMs.push(await lookup(child(2 * i + 2)));
      await ctx.server.drained();
    }
    await context.close();
    const [shown, own] = [summarize(browserMs), summarize(lookupMs)];
    const label = `web view: "Open the details" → details shown (Chromium, headless), ${samples} lookups`;
    const baseline = 'the lookup from this process, same run';
    ctx.record({
      id: 'web-view.open-details.p95',
      label: `${label}: p95`,
      unit: 'ms',
      value: shown.p95,
      baseline: { label: baseline, value: own.p95 },
      target: { kind: 'ratio', op: '<=', limit: 1.2 },
      details: { browser: shown, lookup: own },
    });
    ctx.record({
      id: 'web-view.open-details.p50',
      label: `${label}: p50`,
      unit: 'ms',
      value: shown.p50,
      baseline: { label: baseline, value: own.p50 },
    });
  } finally {
    await browser.close();
  }
}

export const webViewMeasurement: Measurement = {
  id: 'web-view',
  title: 'Web view: JavaScript + CSS compressed; "Open the details" in a browser vs the lookup',
  async run(ctx) {
    await measureBundle(ctx);
    if (ctx.settings.mode === 'quick') {
      ctx.note('Web view: the quick mode measures the bundle only; the browser runs in full runs.');
      return;
    }
    await measureBrowser(ctx, 60);
  },
};
