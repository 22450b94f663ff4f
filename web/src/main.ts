/**
 * The clinician web view: sign in, type an NHS number, see whether an alert exists (the presence check,
 * which tells nobody), then open the details (the lookup, which for unscheduled care tells the councils).
 * The NHS number lives in this script's memory only: never in the address, storage or logs.
 */
import 'nhsuk-frontend/dist/nhsuk/nhsuk-frontend-10.6.1.min.css';
import './page.css';
import { Button, ErrorSummary, Header, SkipLink } from 'nhsuk-frontend';
import type { User, UserManager } from 'oidc-client-ts';
import { type AlertAnswer, api, type DetailsAnswer, type Failure, type Plan } from './api';
import { notifies, type PageConfig, pageAddress, userManager, type Viewer, viewerOf } from './auth';
import { button, h, summaryRow } from './dom';
import { formatNhsNumber, readNhsNumber } from './nhs-number-input';
import { isOfficeHours, phonesInOrder, telHref } from './office-hours';
import { formatDate, formatDateTime, PLAN_TYPE_WORDS } from './words';

type Screen =
  | { name: 'signed-out'; reason?: 'signed-out' | 'expired' }
  | { name: 'identity-unreachable' }
  | { name: 'search'; error?: string; typed?: string }
  | { name: 'alert'; answer: AlertAnswer }
  | { name: 'details'; answer: DetailsAnswer }
  | { name: 'problem'; failure: Failure; retry: () => void };

const app = document.getElementById('app') as HTMLElement;
let config: PageConfig | undefined;
let manager: UserManager | undefined;
let user: User | null = null;
let viewer: Viewer | undefined;
let busy = false;

function logProblem(what: string): void {
  console.error(`Child protection alerts: ${what}`);
}

/** The retry of the screen shown: "Try again" repeats exactly what failed. */
let currentRetry: (() => void) | undefined;

function show(screen: Screen): void {
  currentRetry =
    screen.name === 'problem'
      ? screen.retry
      : screen.name === 'identity-unreachable'
        ? () => void start()
        : undefined;
  app.replaceChildren(...render(screen));
  app.dataset.screen = screen.name;
  const account = document.getElementById('account') as HTMLElement;
  account.hidden = !user || screen.name === 'signed-out';
  (document.getElementById('account-user') as HTMLElement).textContent = viewer
    ? [viewer.name, viewer.roleName, viewer.organisation].filter(Boolean).join(', ')
    : '';
  for (const element of app.querySelectorAll('[data-module="nhsuk-button"]')) new Button(element);
  const summary = app.querySelector('[data-module="nhsuk-error-summary"]');
  if (summary) new ErrorSummary(summary);
  // The search form's question is its label: the field itself takes the focus.
  else (app.querySelector<HTMLElement>('#nhs-number') ?? app.querySelector<HTMLElement>('h1'))?.focus();
}

function heading(text: string): HTMLElement {
  document.title = `${text} – Child protection alerts – NHS`;
  return h('h1', { class: 'nhsuk-heading-l', tabindex: '-1' }, text);
}

const nhsNumberRow = (nhsNumber: string, supersededBy?: string) => [
  summaryRow('NHS number', formatNhsNumber(nhsNumber)),
  supersededBy
    ? summaryRow(
        'Replaced by',
        `${formatNhsNumber(supersededBy)} (this NHS number was replaced; the plans shown are under the new one)`,
      )
    : null,
];

function render(screen: Screen): HTMLElement[] {
  switch (screen.name) {
    case 'signed-out':
      return [
        heading(
          screen.reason === 'expired'
            ? 'Your session has ended'
            : 'Sign in to check for child protection alerts',
        ),
        h(
          'p',
          { class: 'nhsuk-body' },
          screen.reason === 'expired'
            ? 'For your security you were signed out. Sign in again to carry on; nothing you searched for was kept.'
            : screen.reason === 'signed-out'
              ? 'You have signed out. Nothing you searched for was kept.'
              : 'Sign in with your NHS smartcard or security key, choosing the role you work in today.',
        ),
        button(screen.reason ? 'Sign in again' : 'Sign in', { id: 'sign-in' }),
      ];
    case 'identity-unreachable':
      return [
        heading('Sorry, the sign-in service cannot be reached'),
        h(
          'p',
          { class: 'nhsuk-body' },
          'The NHS sign-in service is not answering. Check your connection, then try again.',
        ),
        h(
          'p',
          { class: 'nhsuk-body' },
          'If you need to know about a child now, call the council’s emergency duty team.',
        ),
        button('Try again', { id: 'try-again' }),
      ];
    case 'search':
      return searchScreen(screen.error, screen.typed);
    case 'alert':
      return alertScreen(screen.answer);
    case 'details':
      return detailsScreen(screen.answer);
    case 'problem':
      return problemScreen(screen.failure);
  }
}

function searchScreen(error?: string, typed = ''): HTMLElement[] {
  const errorId = 'nhs-number-error';
  const input = h('input', {
    class: `nhsuk-input nhsuk-input--width-10${error ? ' nhsuk-input--error' : ''}`,
    id: 'nhs-number',
    name: 'nhsNumber',
    type: 'text',
    inputmode: 'numeric',
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': `nhs-number-hint${error ? ` ${errorId}` : ''}`,
  }) as HTMLInputElement;
  input.value = typed;
  const form = h(
    'form',
    { method: 'post', novalidate: true, id: 'search-form' },
    h(
      'div',
      { class: `nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}` },
      h(
        'h1',
        { class: 'nhsuk-label-wrapper' },
        h('label', { class: 'nhsuk-label nhsuk-label--l', for: 'nhs-number' }, 'What is the NHS number?'),
      ),
      h(
        'div',
        { class: 'nhsuk-hint', id: 'nhs-number-hint' },
        'The child’s 10-digit NHS number, for example 999 000 0018. For an unborn child, the mother’s.',
      ),
      error
        ? h(
            'span',
            { class: 'nhsuk-error-message', id: errorId },
            h('span', { class: 'nhsuk-u-visually-hidden' }, 'Error: '),
            error,
          )
        : null,
      input,
    ),
    h(
      'button',
      { class: 'nhsuk-button', 'data-module': 'nhsuk-button', type: 'submit' },
      'Check for an alert',
    ),
  );
  document.title = `${error ? 'Error: ' : ''}Check for an alert – Child protection alerts – NHS`;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void search(input.value);
  });
  const nodes: HTMLElement[] = [];
  if (error) {
    nodes.push(
      h(
        'div',
        { class: 'nhsuk-error-summary', 'data-module': 'nhsuk-error-summary' },
        h(
          'div',
          { role: 'alert' },
          h('h2', { class: 'nhsuk-error-summary__title' }, 'There is a problem'),
          h(
            'div',
            { class: 'nhsuk-error-summary__body' },
            h(
              'ul',
              { class: 'nhsuk-list nhsuk-error-summary__list' },
              h('li', {}, h('a', { href: '#nhs-number' }, error)),
            ),
          ),
        ),
      ),
    );
  }
  nodes.push(form);
  return nodes;
}

/** What opening the details does, worded from the signed-in role's permission codes. */
function detailsNotice(): HTMLElement {
  const telling = viewer ? notifies(viewer) : undefined;
  if (telling === false) {
    return h(
      'div',
      { class: 'nhsuk-inset-text' },
      h('span', { class: 'nhsuk-u-visually-hidden' }, 'Information: '),
      h(
        'p',
        {},
        'Your role has scheduled care access only (B0170): opening the details is a silent read. The council is not told, and the check is recorded in the audit trail.',
      ),
    );
  }
  return h(
    'div',
    { class: 'nhsuk-card nhsuk-card--warning' },
    h(
      'div',
      { class: 'nhsuk-card__heading-container' },
      h(
        'h2',
        { class: 'nhsuk-card__heading' },
        h(
          'span',
          { role: 'text' },
          h('span', { class: 'nhsuk-u-visually-hidden' }, 'Important: '),
          'Opening the details tells the council',
        ),
      ),
    ),
    h(
      'div',
      { class: 'nhsuk-card__content' },
      h(
        'p',
        {},
        telling === true
          ? 'When you open the details, each council that holds a plan for this child is told that you looked at the record: your name, job role and organisation, and when. Open them only if you are caring for this child.'
          : 'If your role has unscheduled care access (B0107), opening the details tells each council that holds a plan for this child that you looked at the record: your name, job role and organisation, and when.',
      ),
    ),
  );
}

function alertScreen(answer: AlertAnswer): HTMLElement[] {
  const summary = h(
    'dl',
    { class: 'nhsuk-summary-list' },
    ...nhsNumberRow(answer.nhsNumber, answer.supersededBy),
  );
  const again = button('Check another NHS number', {
    class: 'nhsuk-button nhsuk-button--secondary',
    id: 'search-again',
  });
  if (!answer.hasAlert) {
    return [
      heading('No child protection alert'),
      summary,
      h(
        'p',
        { class: 'nhsuk-body' },
        'No council holds a child protection plan, looked after child record or unborn child protection plan for this NHS number. No council has been told about this check.',
      ),
      again,
    ];
  }
  return [
    heading('There is a child protection alert'),
    summary,
    h(
      'p',
      { class: 'nhsuk-body' },
      'A council holds a plan for this NHS number. The details name the council and how to reach its duty team.',
    ),
    detailsNotice(),
    h('div', { class: 'nhsuk-button-group' }, button('Open the details', { id: 'open-details' }), again),
  ];
}

function planCard(plan: Plan, now: Date): HTMLElement {
  const phones = phonesInOrder(plan.council, now);
  return h(
    'div',
    { class: 'nhsuk-card' },
    h(
      'div',
      { class: 'nhsuk-card__heading-container' },
      h('h2', { class: 'nhsuk-card__heading nhsuk-heading-m' }, PLAN_TYPE_WORDS[plan.planType]),
    ),
    h(
      'div',
      { class: 'nhsuk-card__content' },
      h(
        'dl',
        { class: 'nhsuk-summary-list' },
        summaryRow('Council', plan.council.name),
        ...phones.map((phone) =>
          summaryRow(
            phone.label,
            h('a', { href: telHref(phone.number), class: 'nhsuk-link cpis-phone' }, phone.number),
          ),
        ),
        summaryRow('Start date', formatDate(plan.startDate)),
        summaryRow('End date', plan.endDate ? formatDate(plan.endDate) : 'Not ended'),
      ),
    ),
  );
}

function detailsScreen(answer: DetailsAnswer): HTMLElement[] {
  const now = new Date();
  const telling = viewer ? notifies(viewer) : undefined;
  const nodes: HTMLElement[] = [
    heading('Child protection details'),
    h('dl', { class: 'nhsuk-summary-list' }, ...nhsNumberRow(answer.nhsNumber, answer.supersededBy)),
  ];
  if (answer.plans.length === 0) {
    nodes.push(h('p', { class: 'nhsuk-body' }, 'No plan is recorded for this NHS number any more.'));
  } else {
    nodes.push(
      h(
        'p',
        { class: 'nhsuk-body-l' },
        isOfficeHours(now)
          ? 'It is office hours: call the council’s office number first.'
          : 'It is out of hours: call the council’s emergency duty team first.',
      ),
      ...answer.plans.map((plan) => planCard(plan, now)),
    );
  }
  nodes.push(
    h(
      'p',
      { class: 'nhsuk-body' },
      telling === false
        ? 'This was a silent read: no council was told.'
        : telling === true
          ? 'Each council holding a plan has been told that you opened these details.'
          : 'If your role has unscheduled care access, each council holding a plan has been told that you opened these details.',
    ),
    h('h2', { class: 'nhsuk-heading-m' }, 'Earlier unscheduled care accesses'),
  );
  if (answer.previousAccesses.length === 0) {
    nodes.push(h('p', { class: 'nhsuk-body' }, 'None recorded.'));
  } else {
    nodes.push(
      h(
        'table',
        { class: 'nhsuk-table' },
        h(
          'caption',
          { class: 'nhsuk-table__caption nhsuk-u-visually-hidden' },
          'Earlier unscheduled care accesses, newest first',
        ),
        h(
          'thead',
          { class: 'nhsuk-table__head' },
          h(
            'tr',
            { class: 'nhsuk-table__row' },
            ...['When', 'Name', 'Job role', 'Organisation'].map((title) =>
              h('th', { class: 'nhsuk-table__header', scope: 'col' }, title),
            ),
          ),
        ),
        h(
          'tbody',
          { class: 'nhsuk-table__body' },
          ...answer.previousAccesses.map((access) =>
            h(
              'tr',
              { class: 'nhsuk-table__row' },
              h('td', { class: 'nhsuk-table__cell' }, formatDateTime(access.accessedAt)),
              h('td', { class: 'nhsuk-table__cell' }, access.userName),
              h('td', { class: 'nhsuk-table__cell' }, access.roleName ?? 'Not given'),
              h(
                'td',
                { class: 'nhsuk-table__cell' },
                access.organisationName
                  ? `${access.organisationName} (${access.organisation})`
                  : access.organisation,
              ),
            ),
          ),
        ),
      ),
    );
  }
  nodes.push(
    button('Check another NHS number', { class: 'nhsuk-button nhsuk-button--secondary', id: 'search-again' }),
  );
  return nodes;
}

function problemScreen(failure: Failure): HTMLElement[] {
  switch (failure.kind) {
    case 'throttled':
      return [
        heading('Too many checks in a short time'),
        h(
          'p',
          { class: 'nhsuk-body' },
          `You, or your organisation, have made more checks this minute than the service allows. Wait ${failure.retryAfterSeconds} seconds, then try again.`,
        ),
        button('Try again', { id: 'try-again' }),
      ];
    case 'api-unreachable':
      return [
        heading('Sorry, the service cannot be reached'),
        h(
          'p',
          { class: 'nhsuk-body' },
          'The child protection information service is not answering. Check your connection, then try again.',
        ),
        h(
          'p',
          { class: 'nhsuk-body' },
          'If you need to know about a child now, call the council’s emergency duty team.',
        ),
        button('Try again', { id: 'try-again' }),
      ];
    case 'forbidden':
      return [
        heading('Your role cannot check for alerts'),
        h(
          'p',
          { class: 'nhsuk-body' },
          'Checking for child protection alerts needs a clinical role with unscheduled care (B0107) or scheduled care (B0170) access. Sign in again with such a role.',
        ),
        button('Sign in with another role', { id: 'sign-in' }),
      ];
    case 'failed':
      return [
        heading('Sorry, something went wrong'),
        h(
          'p',
          { class: 'nhsuk-body' },
          'The service could not answer this check. Try again; if it keeps happening, call the council’s emergency duty team.',
        ),
        button('Try again', { id: 'try-again' }),
      ];
    case 'signed-out':
      return render({ name: 'signed-out', reason: 'expired' });
  }
}

// ------------------------------------------------------------------------------------------------
// Actions

let lastNhsNumber: string | undefined;

async function withToken<T>(call: (token: string) => Promise<T>): Promise<T | undefined> {
  if (!user || user.expired) {
    user = null;
    show({ name: 'signed-out', reason: 'expired' });
    return undefined;
  }
  return call(user.access_token);
}

function onFailure(failure: Failure, retry: () => void): void {
  if (failure.kind === 'signed-out') {
    user = null;
    void manager?.removeUser();
    show({ name: 'signed-out', reason: 'expired' });
  } else show({ name: 'problem', failure, retry });
}

async function search(typed: string): Promise<void> {
  const checked = readNhsNumber(typed);
  if (!checked.ok) {
    show({ name: 'search', error: checked.message, typed });
    return;
  }
  await checkAlert(checked.nhsNumber);
}

async function checkAlert(nhsNumber: string): Promise<void> {
  if (busy || !config) return;
  busy = true;
  lastNhsNumber = nhsNumber;
  const apiBase = config.apiBaseUrl;
  try {
    const outcome = await withToken((token) => api.checkAlert(apiBase, nhsNumber, token));
    if (!outcome) return;
    if (outcome.ok) show({ name: 'alert', answer: outcome.value });
    else onFailure(outcome.failure, () => void checkAlert(nhsNumber));
  } finally {
    busy = false;
  }
}

async function openDetails(nhsNumber: string): Promise<void> {
  if (busy || !config) return;
  busy = true;
  const apiBase = config.apiBaseUrl;
  try {
    const outcome = await withToken((token) => api.openDetails(apiBase, nhsNumber, token));
    if (!outcome) return;
    if (outcome.ok) show({ name: 'details', answer: outcome.value });
    else onFailure(outcome.failure, () => void openDetails(nhsNumber));
  } finally {
    busy = false;
  }
}

async function signIn(): Promise<void> {
  try {
    await manager?.signinRedirect();
  } catch {
    logProblem('the sign-in service could not be reached');
    show({ name: 'identity-unreachable' });
  }
}

app.addEventListener('click', (event) => {
  const target = (event.target as HTMLElement).closest('button');
  if (!target) return;
  switch (target.id) {
    case 'sign-in':
      void signIn();
      break;
    case 'try-again':
      if (currentRetry) currentRetry();
      else void signIn();
      break;
    case 'open-details':
      if (lastNhsNumber) void openDetails(lastNhsNumber);
      break;
    case 'search-again':
      lastNhsNumber = undefined;
      show({ name: 'search' });
      break;
  }
});

document.getElementById('sign-out')?.addEventListener('click', () => {
  const ending = manager;
  user = null;
  viewer = undefined;
  lastNhsNumber = undefined;
  void ending?.removeUser().then(() => show({ name: 'signed-out', reason: 'signed-out' }));
});

async function loadConfig(): Promise<PageConfig> {
  const response = await fetch('config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json answered ${response.status}`);
  return (await response.json()) as PageConfig;
}

async function start(): Promise<void> {
  try {
    config ??= await loadConfig();
  } catch {
    logProblem('the page configuration could not be read');
    show({ name: 'problem', failure: { kind: 'api-unreachable' }, retry: () => void start() });
    return;
  }
  manager ??= userManager(config);
  const params = new URLSearchParams(window.location.search);
  try {
    if (params.has('code') || params.has('error')) {
      try {
        user = await manager.signinRedirectCallback();
      } finally {
        // The code and state leave the address bar (and history) whatever happened.
        window.history.replaceState(null, '', pageAddress());
      }
    } else {
      user = await manager.getUser();
    }
  } catch (error) {
    const message =
      (error as Error).name === 'TypeError' ? 'identity service unreachable' : 'sign-in did not complete';
    logProblem(message);
    user = null;
    if ((error as Error).name === 'TypeError') {
      show({ name: 'identity-unreachable' });
      return;
    }
  }
  if (user?.expired) {
    await manager.removeUser();
    user = null;
    show({ name: 'signed-out', reason: 'expired' });
    return;
  }
  if (!user) {
    show({ name: 'signed-out' });
    return;
  }
  viewer = viewerOf(user);
  show({ name: 'search' });
}

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported');
new Header(document.querySelector('[data-module="nhsuk-header"]'));
new SkipLink(document.querySelector('[data-module="nhsuk-skip-link"]'));
void start();
