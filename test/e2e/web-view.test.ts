/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The clinician web view in a real browser (Debian's Chromium, headless) against a real `npm start`:
 * sign in at the local identity provider, check for an alert, open the details, and every error screen;
 * by mouse and by keyboard alone; axe-core at WCAG 2.2 AA on every screen; screenshots of each screen
 * written to docs/screenshots/ (shown in the README).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import { jest } from '@jest/globals';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { testNhsNumber, tokens } from '../../testkit';
import { webViewContentSecurityPolicy } from '../../web/content-security-policy';
import { type RunningService, startNpmStart } from './npm-start';

jest.setTimeout(240_000);

const SCREENSHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots');
const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

const LONDON = {
  code: 'E09000001',
  name: 'London Borough of Example',
  office: '020 7946 0000',
  emergency: '020 7946 0999',
};
const WESTMINSTER = {
  code: 'E09000033',
  name: 'Westminster City Council',
  office: '020 7641 6000',
  emergency: '020 7641 2388',
};
const ADA = 'Dr Ada Lovelace — Staff Nurse at Example Hospitals NHS Trust (B0107)';
const MARY = 'Dr Mary Seacole — Paediatric Registrar at Example Hospitals NHS Trust (B0107, B0170)';
const GRACE = 'Dr Grace Hopper — Health Visitor at Example Community Health NHS Trust (B0170)';

// Children of the flows: two with plans at both councils (mouse, keyboard), one without.
const WITH_PLANS = testNhsNumber(8101);
const WITH_PLANS_KEYBOARD = testNhsNumber(8102);
const WITHOUT_PLANS = testNhsNumber(8104);
const ALL_CHILDREN = [WITH_PLANS, WITH_PLANS_KEYBOARD, WITHOUT_PLANS];
/** 9990000018 → "999 000 0018", as people type it. */
const spaced = (n: string) => `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`;
/** A mistyped number: the last digit changed, so the check digit fails. */
const mistyped = (n: string) => `${n.slice(0, 9)}${(Number(n[9]) + 1) % 10}`;

let service: RunningService;
let browser: Browser;

async function api(method: string, route: string, token: string, body?: unknown) {
  const response = await fetch(`${service.url}${route}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: await response.json().catch(() => undefined) };
}

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  service = await startNpmStart();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
  for (const council of [LONDON, WESTMINSTER]) {
    const token = await tokens.council(council.code);
    const registered = await api('PUT', `/v1/councils/${council.code}`, token, {
      name: council.name,
      officeHoursPhone: council.office,
      emergencyDutyPhone: council.emergency,
    });
    expect(registered.status).toBe(200);
  }
  const london = await tokens.council(LONDON.code);
  const westminster = await tokens.council(WESTMINSTER.code);
  for (const child of [WITH_PLANS, WITH_PLANS_KEYBOARD]) {
    expect(
      (
        await api('PUT', `/v1/councils/${LONDON.code}/plans/${child}/CPP`, london, {
          startDate: '2026-03-01',
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api('PUT', `/v1/councils/${WESTMINSTER.code}/plans/${child}/LAC`, westminster, {
          startDate: '2025-11-20',
        })
      ).status,
    ).toBe(201);
  }
});

afterAll(async () => {
  await browser?.close();
  await service?.stop();
});

interface Tab {
  context: BrowserContext;
  page: Page;
  /** Every request to the API the page made. */
  apiRequests: string[];
  console: string[];
}

async function openTab(): Promise<Tab> {
  const context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
  const page = await context.newPage();
  const tab: Tab = { context, page, apiRequests: [], console: [] };
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.startsWith('/v1/')) tab.apiRequests.push(request.url());
  });
  page.on('console', (message) => tab.console.push(message.text()));
  await page.goto(service.webView);
  await screen(page, 'signed-out');
  return tab;
}

const screen = (page: Page, name: string) => page.waitForSelector(`#app[data-screen="${name}"]`);

/** axe-core at WCAG 2.2 AA: no violations; then a screenshot for docs/screenshots/. */
async function check(page: Page, shot: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  expect(results.violations.map((violation) => `${violation.id}: ${violation.help}`)).toEqual([]);
  await page.screenshot({ path: path.join(SCREENSHOTS, `${shot}.png`), fullPage: true });
}

/** Signs in at the provider's sign-in page as the given role profile, by mouse. */
async function signIn(tab: Tab, profile: string, shot?: string): Promise<void> {
  await tab.page.getByRole('button', { name: 'Sign in' }).click();
  await tab.page.waitForSelector('select#role-profile');
  if (shot) await check(tab.page, shot);
  await tab.page.getByLabel('Role profile').selectOption({ label: profile });
  await tab.page.getByRole('button', { name: 'Sign in' }).click();
  await screen(tab.page, 'search');
}

async function typeAndCheck(page: Page, typed: string): Promise<void> {
  await page.getByLabel('What is the NHS number?').fill(typed);
  await page.getByRole('button', { name: 'Check for an alert' }).click();
}

/** Nothing personal kept beyond the page's memory: not in the address, storage or the console. */
async function expectNothingKept(tab: Tab): Promise<void> {
  const kept = await tab.page.evaluate(() => ({
    url: window.location.href,
    local: JSON.stringify(window.localStorage),
    session: JSON.stringify(window.sessionStorage),
    history: window.history.length,
  }));
  for (const child of ALL_CHILDREN) {
    expect(kept.url).not.toContain(child);
    expect(kept.local).not.toContain(child);
    expect(kept.session).not.toContain(child);
    for (const line of tab.console) expect(line).not.toContain(child);
  }
  expect(kept.local).toBe('{}');
  expect(kept.url).toBe(service.webView);
}

const phoneLinks = (page: Page) =>
  page
    .locator('a[href^="tel:"]')
    .evaluateAll((links) =>
      links.map((link) => ({ text: link.textContent, href: link.getAttribute('href') })),
    );

describe('a clinician with unscheduled care access (B0107)', () => {
  let tab: Tab;
  beforeAll(async () => {
    tab = await openTab();
  });
  afterAll(async () => {
    await tab?.context.close();
  });

  it('signs in through the local identity provider (CIS2 stand-in), choosing a role profile', async () => {
    await check(tab.page, '01-signed-out');
    await signIn(tab, ADA, '02-identity-sign-in');
    await expect(tab.page.locator('#account-user').textContent()).resolves.toBe(
      'Dr Ada Lovelace, Staff Nurse, Example Hospitals NHS Trust',
    );
    // The code and state of the sign-in are gone from the address.
    expect(tab.page.url()).toBe(service.webView);
    await check(tab.page, '03-search');
  });

  it('a mistyped NHS number: an inline error and an error summary, and no request is sent', async () => {
    const before = tab.apiRequests.length;
    await typeAndCheck(tab.page, spaced(mistyped(WITH_PLANS)));
    await screen(tab.page, 'search');
    await expect(tab.page.locator('.nhsuk-error-summary').textContent()).resolves.toContain(
      'There is a problem',
    );
    await expect(tab.page.locator('#nhs-number-error').textContent()).resolves.toContain(
      'Enter a valid NHS number',
    );
    await expect(tab.page.locator('#nhs-number').getAttribute('aria-describedby')).resolves.toContain(
      'nhs-number-error',
    );
    await check(tab.page, '04-nhs-number-error');
    expect(tab.apiRequests.length).toBe(before);
  });

  it('a child with plans at two councils: the alert, a clear notice, then the details with both councils’ phones', async () => {
    await typeAndCheck(tab.page, spaced(WITH_PLANS));
    await screen(tab.page, 'alert');
    await expect(tab.page.locator('h1').textContent()).resolves.toBe('There is a child protection alert');
    await expect(tab.page.locator('.nhsuk-card--warning').textContent()).resolves.toContain(
      'each council that holds a plan for this child is told',
    );
    await check(tab.page, '05-alert');
    // The presence check told nobody.
    expect(await service.takeMessages(LONDON.code)).toEqual([]);
    expect(await service.takeMessages(WESTMINSTER.code)).toEqual([]);

    // Out of hours (a Monday at 22:00 in London): the emergency duty numbers come first.
    await tab.page.clock.setFixedTime(new Date('2026-01-05T22:00:00Z'));
    await tab.page.getByRole('button', { name: 'Open the details' }).click();
    await screen(tab.page, 'details');
    const text = await tab.page.locator('#app').textContent();
    for (const words of [
      'Child protection plan',
      'Looked after child',
      LONDON.name,
      WESTMINSTER.name,
      '1 March 2026',
    ])
      expect(text).toContain(words);
    expect(await phoneLinks(tab.page)).toEqual([
      { text: LONDON.emergency, href: 'tel:02079460999' },
      { text: LONDON.office, href: 'tel:02079460000' },
      { text: WESTMINSTER.emergency, href: 'tel:02076412388' },
      { text: WESTMINSTER.office, href: 'tel:02076416000' },
    ]);
    expect(text).toContain('It is out of hours: call the council’s emergency duty team first.');
    await check(tab.page, '06-details');

    // Each council holding a plan was told exactly once, by name, job role and organisation.
    for (const council of [LONDON, WESTMINSTER]) {
      const messages = await service.takeMessages(council.code);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({
        type: 'ChildRecordAccessed',
        councilCode: council.code,
        nhsNumber: WITH_PLANS,
        accessedBy: { userId: 'u1', userName: 'Dr Ada Lovelace', organisation: 'RXX01' },
      });
    }
    await expectNothingKept(tab);
  });

  it('a child without plans: no alert, and no council is told', async () => {
    await tab.page.getByRole('button', { name: 'Check another NHS number' }).click();
    await screen(tab.page, 'search');
    await typeAndCheck(tab.page, WITHOUT_PLANS);
    await screen(tab.page, 'alert');
    await expect(tab.page.locator('h1').textContent()).resolves.toBe('No child protection alert');
    await expect(tab.page.getByRole('button', { name: 'Open the details' }).count()).resolves.toBe(0);
    await check(tab.page, '07-no-alert');
    expect(await service.takeMessages(LONDON.code)).toEqual([]);
    expect(await service.takeMessages(WESTMINSTER.code)).toEqual([]);
    await expectNothingKept(tab);
  });

  it('the service unreachable: a clear message, and "Try again" repeats the check', async () => {
    await tab.page.getByRole('button', { name: 'Check another NHS number' }).click();
    await tab.page.route('**/v1/**', (route) => route.abort('connectionrefused'));
    await typeAndCheck(tab.page, WITHOUT_PLANS);
    await screen(tab.page, 'problem');
    await expect(tab.page.locator('h1').textContent()).resolves.toBe('Sorry, the service cannot be reached');
    await check(tab.page, '08-service-unreachable');
    await tab.page.unroute('**/v1/**');
    await tab.page.getByRole('button', { name: 'Try again' }).click();
    await screen(tab.page, 'alert');
    await expect(tab.page.locator('h1').textContent()).resolves.toBe('No child protection alert');
  });

  it('throttled by the service (429 with Retry-After): says how long to wait, and "Try again"', async () => {
    // The same user's checks from elsewhere use up the per-user limit (120 a minute).
    const token = await tokens.clinician(['B0107'], { sub: 'u1', org: 'RXX01' });
    let status = 200;
    for (let i = 0; i < 200 && status !== 429; i++)
      status = (await api('GET', `/v1/children/${WITHOUT_PLANS}/alert`, token)).status;
    expect(status).toBe(429);
    await tab.page.getByRole('button', { name: 'Check another NHS number' }).click();
    await typeAndCheck(tab.page, WITHOUT_PLANS);
    await screen(tab.page, 'problem');
    await expect(tab.page.locator('h1').textContent()).resolves.toBe('Too many checks in a short time');
    await expect(tab.page.locator('#app').textContent()).resolves.toMatch(/Wait \d+ seconds, then try again/);
    await expect(tab.page.getByRole('button', { name: 'Try again' }).count()).resolves.toBe(1);
    await check(tab.page, '09-throttled');
  });

  it('an ended session: says so and offers to sign in again', async () => {
    // Two hours on: the access token has expired.
    await tab.page.clock.setFixedTime(new Date(Date.now() + 2 * 3600_000));
    await tab.page.reload();
    await screen(tab.page, 'signed-out');
    await expect(tab.page.locator('h1').textContent()).resolves.toBe('Your session has ended');
    await expect(tab.page.getByRole('button', { name: 'Sign in again' }).count()).resolves.toBe(1);
    await check(tab.page, '10-session-ended');
    await expectNothingKept(tab);
  });
});

describe('by keyboard alone', () => {
  it('signs in, checks, opens the details (office hours: office numbers first) and starts again', async () => {
    const tab = await openTab();
    const { page } = tab;
    try {
      const focusedText = () => page.evaluate(() => document.activeElement?.textContent?.trim() ?? '');
      const tabTo = async (text: string) => {
        for (let i = 0; i < 30 && (await focusedText()) !== text; i++) await page.keyboard.press('Tab');
        expect(await focusedText()).toBe(text);
      };
      await tabTo('Sign in');
      await page.keyboard.press('Enter');
      await page.waitForSelector('select#role-profile');
      for (
        let i = 0;
        i < 30 && !(await page.evaluate(() => document.activeElement?.id === 'role-profile'));
        i++
      )
        await page.keyboard.press('Tab');
      const chosen = () =>
        page.evaluate(() => {
          const select = document.getElementById('role-profile') as HTMLSelectElement;
          return select.options[select.selectedIndex]?.text;
        });
      for (let i = 0; i < 20 && (await chosen()) !== MARY; i++) await page.keyboard.press('ArrowDown');
      expect(await chosen()).toBe(MARY);
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await screen(page, 'search');

      for (
        let i = 0;
        i < 30 && !(await page.evaluate(() => document.activeElement?.id === 'nhs-number'));
        i++
      )
        await page.keyboard.press('Tab');
      await page.keyboard.type(spaced(WITH_PLANS_KEYBOARD));
      await page.keyboard.press('Enter');
      await screen(page, 'alert');

      // Office hours (a Monday at 10:00 in London): the office numbers come first.
      await page.clock.setFixedTime(new Date('2026-01-05T10:00:00Z'));
      await tabTo('Open the details');
      await page.keyboard.press('Enter');
      await screen(page, 'details');
      expect((await phoneLinks(page)).map((link) => link.text)).toEqual([
        LONDON.office,
        LONDON.emergency,
        WESTMINSTER.office,
        WESTMINSTER.emergency,
      ]);
      for (const council of [LONDON, WESTMINSTER])
        expect(await service.takeMessages(council.code)).toHaveLength(1);
      // The phone numbers are reachable by keyboard too.
      await tabTo(LONDON.office);

      await tabTo('Check another NHS number');
      await page.keyboard.press('Enter');
      await screen(page, 'search');
      // Ready for the next number: the field has the focus.
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('nhs-number');
      await expectNothingKept(tab);
    } finally {
      await tab.context.close();
    }
  });
});

describe('a clinician with scheduled care access only (B0170)', () => {
  it('sees the details, with the earlier access, as a silent read: told so before and after, and no council is told', async () => {
    const tab = await openTab();
    try {
      await signIn(tab, GRACE);
      await typeAndCheck(tab.page, WITH_PLANS);
      await screen(tab.page, 'alert');
      const notice = await tab.page.locator('#app').textContent();
      expect(notice).toContain('opening the details is a silent read. The council is not told');
      expect(notice).not.toContain('Opening the details tells the council');
      await check(tab.page, '11-alert-silent-read');
      await tab.page.getByRole('button', { name: 'Open the details' }).click();
      await screen(tab.page, 'details');
      await expect(tab.page.locator('#app').textContent()).resolves.toContain(
        'This was a silent read: no council was told.',
      );
      expect(await phoneLinks(tab.page)).toHaveLength(4);
      // The earlier unscheduled-care access (Dr Lovelace's, above): name, job role, organisation, time.
      const history = await tab.page
        .locator('table tbody tr')
        .evaluateAll((rows) =>
          rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent)),
        );
      expect(history).toEqual([
        [
          expect.stringMatching(/^\d{1,2} \w+ \d{4} at \d{2}:\d{2} (GMT|BST)$/),
          'Dr Ada Lovelace',
          'Staff Nurse',
          'Example Hospitals NHS Trust (RXX01)',
        ],
      ]);
      await check(tab.page, '12-details-silent-read');
      expect(await service.takeMessages(LONDON.code)).toEqual([]);
      expect(await service.takeMessages(WESTMINSTER.code)).toEqual([]);

      await tab.page.getByRole('button', { name: 'Sign out' }).click();
      await screen(tab.page, 'signed-out');
      await expect(tab.page.locator('h1').textContent()).resolves.toBe(
        'Sign in to check for child protection alerts',
      );
      await check(tab.page, '13-signed-out');
      await expectNothingKept(tab);
      // Signing in again asks for the role profile again, though the provider still knows the browser.
      await tab.page.getByRole('button', { name: 'Sign in' }).click();
      await tab.page.waitForSelector('select#role-profile');
    } finally {
      await tab.context.close();
    }
  });
});

describe('refusals', () => {
  it("a council's token cannot make the page's calls: 403 for both", async () => {
    const token = await tokens.council(LONDON.code);
    for (const route of [`/v1/children/${WITH_PLANS}/alert`, `/v1/children/${WITH_PLANS}`]) {
      const answer = await api('GET', route, token);
      expect({ route, status: answer.status, code: answer.body?.error?.code }).toEqual({
        route,
        status: 403,
        code: 'FORBIDDEN',
      });
    }
  });

  it('the identity service unreachable: a clear message, and "Try again" reaches it once it answers', async () => {
    const tab = await openTab();
    try {
      const issuer = `${service.runtime.identityOrigin}/**`;
      await tab.page.route(issuer, (route) => route.abort('connectionrefused'));
      await tab.page.getByRole('button', { name: 'Sign in' }).click();
      await screen(tab.page, 'identity-unreachable');
      await expect(tab.page.locator('h1').textContent()).resolves.toBe(
        'Sorry, the sign-in service cannot be reached',
      );
      await check(tab.page, '14-identity-unreachable');
      await tab.page.unroute(issuer);
      await tab.page.getByRole('button', { name: 'Try again' }).click();
      await screen(tab.page, 'signed-out');
      await tab.page.getByRole('button', { name: 'Sign in' }).click();
      await tab.page.waitForSelector('select#role-profile');
      // The page logged what failed, without any personal data.
      expect(tab.console.some((line) => line.includes('the sign-in service could not be reached'))).toBe(
        true,
      );
    } finally {
      await tab.context.close();
    }
  });

  it('serves the page with its strict policy: no inline code allowed, never framed, no referrer', async () => {
    const response = await fetch(service.webView);
    expect(response.status).toBe(200);
    const policy = response.headers.get('content-security-policy') as string;
    expect(policy).toBe(
      webViewContentSecurityPolicy(`${service.runtime.identityOrigin}/cis2`, { https: false }),
    );
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toContain('unsafe');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    const config = await (await fetch(new URL('config.json', service.webView))).json();
    expect(config).toEqual({
      issuer: `${service.runtime.identityOrigin}/cis2`,
      clientId: 'web-view',
      apiBaseUrl: '',
    });
  });
});
