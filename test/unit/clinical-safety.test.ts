/**
 * The clinical safety hazard log (docs/clinical-safety.md) is held to its own claims: every required
 * hazard is there with its causes, controls and ratings; every control names the code that implements
 * it and the tests that show it works, by file and exact title, and those tests exist; the ratings follow
 * the log's risk matrix; and the rules, routes and fields the log was reviewed against are the code's,
 * so a change to any of them fails here until the log is reviewed.
 */
import { existsSync, readFileSync } from 'node:fs';
import ts from 'typescript';
import { ACTIVITY_NOTIFYING, ACTIVITY_SILENT } from '../../functions/core/access-history';
import { ChildRecordAccessedSchema, NhsNumberSupersededSchema } from '../../functions/core/council-messages';
import { UNBORN_VISIBLE_DAYS_AFTER_END, VISIBLE_MONTHS_AFTER_END } from '../../functions/core/plans';
import { AlertResponseSchema, LookupResponseSchema } from '../../functions/core/response-schemas';
import { councilBodySchema, planBodySchema } from '../../functions/core/schemas';
import { CSV_HEADER, DEFAULT_SNAPSHOT_MAX_END_SHARE } from '../../functions/core/uploads';
import { routes } from '../../functions/http/routes';

const LOG_PATH = 'docs/clinical-safety.md';

/** The hazards the log must always hold, by id and exact title (it may hold more). */
const REQUIRED_HAZARDS: readonly [string, string][] = [
  ['H1', 'A wrong child is shown an alert'],
  ['H2', 'An alert is missed'],
  ['H3', 'A stale plan is shown'],
  ['H4', 'A notification is lost'],
  ['H5', 'A notification is duplicated'],
  ['H6', 'A notification is sent to the wrong council'],
  ['H7', 'An alert is shown for a record flagged sensitive, or a new plan for one is refused'],
  ['H8', 'Access history is attributed to the wrong person'],
  ['H9', "The duty team's phone numbers are wrong or unreadable"],
  ['H10', 'The service is unavailable at the point of care'],
  ['H11', 'A silent read notifies, or a notifying read is silent'],
  ['H12', 'Sensitive or superseded status is probed without trace'],
  ['H17', 'A clinician checks a mistyped but valid NHS number in the web view'],
  ['H18', 'An alert is seen through the presence check but the council is never told'],
  ['H19', 'The web view puts first a duty number that does not answer'],
  ['H20', 'The web view fails a clinician mid-consultation'],
];

/** What every hazard section must say, in the DCB0129 manner, besides its controls and ratings. */
const REQUIRED_PARTS = ['**Description.**', '**Causes.**', '**Effect and harm.**', '**Controls.**'];

const SEVERITIES = ['minor', 'significant', 'considerable', 'major', 'catastrophic'] as const;
const LIKELIHOODS = ['very low', 'low', 'medium', 'high', 'very high'] as const;

interface Rating {
  severity: string;
  likelihood: string;
  risk: number;
  line: number;
}
interface Evidence {
  file: string;
  title: string;
  line: number;
}
interface Control {
  id: string;
  text: string;
  line: number;
  evidence: Evidence[];
  /** The open actions a control without a test names instead. */
  untested: string[];
}
interface Hazard {
  id: string;
  title: string;
  line: number;
  body: string[];
  controls: Control[];
  initial?: Rating;
  residual?: Rating;
}
interface HazardLog {
  hazards: Hazard[];
  /** Risk by likelihood then severity, as the log's matrix gives it. */
  matrix: Map<string, Map<string, number>>;
  openActions: Map<string, { hazards: string[]; line: number }>;
  summary: Map<string, { title: string; initial: number; residual: number; line: number }>;
  /** Lines that look like log entries but do not follow the format, each naming its line. */
  problems: string[];
}

const HAZARD_HEADING = /^## (H\d+)\. (.+)$/;
const CONTROL_LINE = /^- \*\*(C(\d+)\.\d+)\*\* (\S.*)$/;
// test/e2e: the web view's browser tests.
const EVIDENCE_LINE = /^ {2}- `(test\/(?:unit|integration|stacks|setup|e2e)\/[\w./-]+\.test\.ts)` › (\S.*)$/;
const UNTESTED_LINE = /^ {2}- no automated test: (\S.*)$/;
const RATING_LINE = new RegExp(
  `^\\*\\*(Initial|Residual) risk:\\*\\* severity (${SEVERITIES.join('|')}), likelihood (${LIKELIHOODS.join('|')}), risk ([1-5])\\.(?: .*)?$`,
);
const OPEN_ACTION_LINE = /^- \*\*(OA-\d+)\*\* \((H\d+(?:, H\d+)*)\) \S.*$/;
const SUMMARY_ROW = /^\| (H\d+) \| (.+) \| ([1-5]) \| ([1-5]) \|$/;
/** A repository file a control names as implementing it, in backticks. */
const IMPLEMENTATION_PATH = /`((?:functions|stacks|local|cli|scripts|testkit|web)\/[\w./-]+)`/g;

/** Parses the log. Strict: a line that starts like an entry but is malformed is reported by number. */
function parseHazardLog(text: string): HazardLog {
  const log: HazardLog = {
    hazards: [],
    matrix: new Map(),
    openActions: new Map(),
    summary: new Map(),
    problems: [],
  };
  let section = '';
  let hazard: Hazard | undefined;
  let control: Control | undefined;
  let matrixColumns: string[] | undefined;
  let inFence = false;
  const problem = (line: number, message: string, content: string) =>
    log.problems.push(`${LOG_PATH}:${line}: ${message}: ${content.trim()}`);

  text.split('\n').forEach((content, index) => {
    const line = index + 1;
    // Examples in fenced blocks are prose, not entries.
    if (content.trimStart().startsWith('```')) inFence = !inFence;
    if (inFence || content.trimStart().startsWith('```')) return;
    if (content.startsWith('## ')) {
      section = content.slice(3).trim();
      control = undefined;
      const heading = HAZARD_HEADING.exec(content);
      hazard = heading
        ? { id: heading[1] as string, title: heading[2] as string, line, body: [], controls: [] }
        : undefined;
      if (hazard) log.hazards.push(hazard);
      else if (/^## H\d/.test(content))
        problem(line, 'malformed hazard heading (want "## H<n>. <title>")', content);
      return;
    }
    if (hazard) hazard.body.push(content);

    // Evidence, controls and ratings: anywhere in the log, a line that begins like one must be one.
    const looksLikeEvidence = /^\s*- `test\//.test(content) || content.includes(' › ');
    if (looksLikeEvidence) {
      const evidence = EVIDENCE_LINE.exec(content);
      if (!evidence)
        problem(
          line,
          'malformed evidence line (want "  - `test/<path>.test.ts` › <exact test title>")',
          content,
        );
      else if (!control) problem(line, 'evidence outside a control', content);
      else
        control.evidence.push({
          file: evidence[1] as string,
          title: (evidence[2] as string).trimEnd(),
          line,
        });
      return;
    }
    if (/^\s*- no automated test/.test(content)) {
      const untested = UNTESTED_LINE.exec(content);
      const actions = untested?.[1]?.match(/OA-\d+/g) ?? [];
      if (!untested || actions.length === 0)
        problem(line, 'an untested control must name its open action (OA-<n>)', content);
      else if (!control) problem(line, '"no automated test" outside a control', content);
      else control.untested.push(...actions);
      return;
    }
    if (/^\s*- \*\*C\d/.test(content)) {
      const parsed = CONTROL_LINE.exec(content);
      if (!parsed || !hazard) {
        problem(
          line,
          parsed ? 'control outside a hazard' : 'malformed control line (want "- **C<n>.<m>** <text>")',
          content,
        );
        control = undefined;
      } else if (`H${parsed[2]}` !== hazard.id) {
        problem(line, `control ${parsed[1]} is not numbered for ${hazard.id}`, content);
        control = undefined;
      } else {
        control = { id: parsed[1] as string, text: parsed[3] as string, line, evidence: [], untested: [] };
        hazard.controls.push(control);
      }
      return;
    }
    if (/^\*\*(Initial|Residual) risk/.test(content)) {
      const rating = RATING_LINE.exec(content);
      if (!rating || !hazard) {
        problem(line, rating ? 'rating outside a hazard' : 'malformed rating line', content);
        return;
      }
      const parsed = {
        severity: rating[2] as string,
        likelihood: rating[3] as string,
        risk: Number(rating[4]),
        line,
      };
      const which = rating[1] === 'Initial' ? 'initial' : 'residual';
      if (hazard[which]) problem(line, `${hazard.id} is rated ${which} twice`, content);
      hazard[which] = parsed;
      control = undefined;
      return;
    }
    if (content.trim() !== '' && !content.startsWith('  ')) control = undefined;

    if (section === 'Risk matrix' && content.startsWith('|')) {
      const cells = content
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim());
      if (
        cells.slice(1).every((cell) => (SEVERITIES as readonly string[]).includes(cell)) &&
        cells.length === 6
      )
        matrixColumns = cells.slice(1);
      else if ((LIKELIHOODS as readonly string[]).includes(cells[0] ?? '')) {
        if (!matrixColumns || cells.length !== 6 || cells.slice(1).some((cell) => !/^[1-5]$/.test(cell)))
          problem(line, 'malformed risk matrix row', content);
        else
          log.matrix.set(
            cells[0] as string,
            new Map(matrixColumns.map((severity, i) => [severity, Number(cells[i + 1])])),
          );
      }
    }
    if (section === 'Summary' && /^\| H\d/.test(content)) {
      const row = SUMMARY_ROW.exec(content);
      if (!row)
        problem(line, 'malformed summary row (want "| H<n> | <title> | <initial> | <residual> |")', content);
      else if (log.summary.has(row[1] as string)) problem(line, `${row[1]} is summed up twice`, content);
      else
        log.summary.set(row[1] as string, {
          title: row[2] as string,
          initial: Number(row[3]),
          residual: Number(row[4]),
          line,
        });
    }
    if (section === 'Open actions' && content.startsWith('- ')) {
      const action = OPEN_ACTION_LINE.exec(content);
      if (!action) problem(line, 'malformed open action (want "- **OA-<n>** (H<n>, ...) <text>")', content);
      else if (log.openActions.has(action[1] as string))
        problem(line, `${action[1]} is listed twice`, content);
      else log.openActions.set(action[1] as string, { hazards: (action[2] as string).split(', '), line });
    }
  });
  return log;
}

const TEST_FUNCTIONS = new Set(['it', 'test']);
/** it(...), test(...), it.concurrent(...), it.each(table)(...), test.each`table`(...); never skip, todo or failing. */
function isTestCall(callee: ts.Expression): boolean {
  if (ts.isIdentifier(callee)) return TEST_FUNCTIONS.has(callee.text);
  if (ts.isPropertyAccessExpression(callee))
    return (
      ts.isIdentifier(callee.expression) &&
      TEST_FUNCTIONS.has(callee.expression.text) &&
      callee.name.text === 'concurrent'
    );
  const each = ts.isCallExpression(callee)
    ? callee.expression
    : ts.isTaggedTemplateExpression(callee)
      ? callee.tag
      : undefined;
  return (
    each !== undefined &&
    ts.isPropertyAccessExpression(each) &&
    each.name.text === 'each' &&
    ts.isIdentifier(each.expression) &&
    TEST_FUNCTIONS.has(each.expression.text)
  );
}

const titlesByFile = new Map<string, Set<string>>();
/**
 * The titles of a test file's tests: the first argument of each test call, as written between its
 * quotes (a template string's `${...}` included) and, for a plain string, also as the string it means.
 */
function testTitles(file: string): Set<string> {
  const known = titlesByFile.get(file);
  if (known) return known;
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const titles = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && isTestCall(node.expression)) {
      const first = node.arguments[0];
      if (
        first &&
        (ts.isStringLiteral(first) ||
          ts.isNoSubstitutionTemplateLiteral(first) ||
          ts.isTemplateExpression(first))
      ) {
        titles.add(first.getText(source).slice(1, -1));
        if (!ts.isTemplateExpression(first)) titles.add(first.text);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  titlesByFile.set(file, titles);
  return titles;
}

/** Each evidence entry that names no existing test, as a message naming the log's line. */
function missingEvidence(log: HazardLog): string[] {
  return log.hazards.flatMap((hazard) =>
    hazard.controls.flatMap((control) =>
      control.evidence.flatMap(({ file, title, line }) => {
        if (!existsSync(file))
          return [`${LOG_PATH}:${line}: ${control.id} cites ${file}, which does not exist`];
        if (!testTitles(file).has(title))
          return [`${LOG_PATH}:${line}: ${control.id} cites "${title}", which is no test title in ${file}`];
        return [];
      }),
    ),
  );
}

/** The dotted paths of an object schema's fields (arrays as `[]`), read from zod's definitions. */
function fieldPaths(schema: unknown, prefix = ''): string[] {
  const def = (schema as { _zod: { def: Record<string, unknown> } })._zod.def;
  switch (def.type) {
    case 'object':
      return Object.entries(def.shape as Record<string, unknown>).flatMap(([name, field]) => {
        const path = prefix ? `${prefix}.${name}` : name;
        const inner = fieldPaths(field, path);
        return inner.length > 0 ? inner : [path];
      });
    case 'array':
      return fieldPaths(def.element, `${prefix}[]`);
    case 'optional':
    case 'nullable':
    case 'default':
      return fieldPaths(def.innerType, prefix);
    default:
      return [];
  }
}

/** The lines the log's "Reviewed against" section must hold, rendered from the code. */
function reviewedAgainst(): string[] {
  const fields = (name: string, paths: readonly string[]) =>
    `- Fields of ${name}: ${paths.map((p) => `\`${p}\``).join(', ')}.`;
  return [
    `- Visibility: CPP and LAC plans ${VISIBLE_MONTHS_AFTER_END} months after their end date, UCPP plans ${UNBORN_VISIBLE_DAYS_AFTER_END} days after.`,
    `- Notifying lookups: permission code ${ACTIVITY_NOTIFYING}, with or without ${ACTIVITY_SILENT}; silent lookups: ${ACTIVITY_SILENT} alone.`,
    `- Snapshot guard: a snapshot may end at most ${Math.round(DEFAULT_SNAPSHOT_MAX_END_SHARE * 100)}% of a council's open plans without force.`,
    // A public route (the FHIR CapabilityStatement) admits anyone: it says so rather than list no role.
    ...routes.map(
      (route) =>
        `- Route: \`${route.method} ${route.path}\` (${route.public ? 'public, no token' : route.access.roles.join(', ')}).`,
    ),
    fields('the lookup response', fieldPaths(LookupResponseSchema)),
    fields('the presence check', fieldPaths(AlertResponseSchema)),
    fields('ChildRecordAccessed', fieldPaths(ChildRecordAccessedSchema)),
    fields('NhsNumberSuperseded', fieldPaths(NhsNumberSupersededSchema)),
    fields('a council registration', fieldPaths(councilBodySchema())),
    fields('a plan', fieldPaths(planBodySchema())),
    fields('an upload row', CSV_HEADER),
  ];
}

const text = readFileSync(LOG_PATH, 'utf8');
const log = parseHazardLog(text);

describe('the clinical safety hazard log (docs/clinical-safety.md)', () => {
  it('follows its own format: no malformed hazard, control, evidence, rating, summary or open action line', () => {
    expect(log.problems).toEqual([]);
  });

  it('holds every required hazard once, under its id and title, in order, with each part of an entry', () => {
    const ids = log.hazards.map((hazard) => hazard.id);
    expect(ids).toEqual(ids.map((_, i) => `H${i + 1}`));
    for (const [id, title] of REQUIRED_HAZARDS) {
      expect(log.hazards.filter((hazard) => hazard.id === id).map((hazard) => hazard.title)).toEqual([title]);
    }
    const missingParts = log.hazards.flatMap((hazard) =>
      REQUIRED_PARTS.filter((part) => !hazard.body.some((line) => line.startsWith(part))).map(
        (part) => `${hazard.id} has no ${part}`,
      ),
    );
    expect(missingParts).toEqual([]);
  });

  it('gives every hazard controls, each naming the code that implements it and its tests or an open action', () => {
    const gaps = log.hazards.flatMap((hazard) => [
      ...(hazard.controls.length === 0 ? [`${hazard.id} has no control`] : []),
      ...(hazard.controls.every((control) => control.evidence.length === 0)
        ? [`${hazard.id} has no evidence entry`]
        : []),
      ...(new Set(hazard.controls.map((control) => control.id)).size !== hazard.controls.length
        ? [`${hazard.id} numbers two controls alike`]
        : []),
      ...hazard.controls.flatMap((control) => {
        const paths = [...control.text.matchAll(IMPLEMENTATION_PATH)].map((match) => match[1] as string);
        return [
          ...(paths.length === 0
            ? [`${control.id} (line ${control.line}) names no file that implements it`]
            : []),
          ...paths
            .filter((path) => !existsSync(path))
            .map((path) => `${control.id} names ${path}, which does not exist`),
          ...(control.evidence.length === 0 && control.untested.length === 0
            ? [`${control.id} (line ${control.line}) has neither evidence nor an open action`]
            : []),
          ...control.untested
            .filter((action) => !log.openActions.has(action))
            .map((action) => `${control.id} names ${action}, which the open actions do not list`),
        ];
      }),
    ]);
    expect(gaps).toEqual([]);
  });

  it('cites as evidence only tests that exist, by file and by the title as written in its it(...) or test(...) call', () => {
    expect(
      log.hazards.flatMap((hazard) => hazard.controls.flatMap((control) => control.evidence)).length,
    ).toBeGreaterThan(0);
    expect(missingEvidence(log)).toEqual([]);
  });

  it("rates every hazard before and after its controls on the log's risk matrix, and sums them up alike", () => {
    expect([...log.matrix.keys()].sort()).toEqual([...LIKELIHOODS].sort());
    const wrong = log.hazards.flatMap((hazard) =>
      (['initial', 'residual'] as const).flatMap((which) => {
        const rating = hazard[which];
        if (!rating) return [`${hazard.id} has no ${which} risk`];
        const expected = log.matrix.get(rating.likelihood)?.get(rating.severity);
        return expected === rating.risk
          ? []
          : [
              `${hazard.id} line ${rating.line}: ${rating.severity} × ${rating.likelihood} is ${expected}, not ${rating.risk}`,
            ];
      }),
    );
    expect(wrong).toEqual([]);
    expect([...log.summary].map(([id, row]) => [id, row.title, row.initial, row.residual])).toEqual(
      log.hazards.map((hazard) => [hazard.id, hazard.title, hazard.initial?.risk, hazard.residual?.risk]),
    );
  });

  it('lists open actions only against hazards it holds', () => {
    const ids = new Set(log.hazards.map((hazard) => hazard.id));
    const stray = [...log.openActions].flatMap(([action, { hazards, line }]) =>
      hazards.filter((id) => !ids.has(id)).map((id) => `${action} (line ${line}) names ${id}`),
    );
    expect(log.openActions.size).toBeGreaterThan(0);
    expect(stray).toEqual([]);
  });

  it('was reviewed against the routes, fields, visibility and notification rules the code has today', () => {
    // A new route or field, or a changed rule, fails here: review the hazards it touches, then the line.
    const lines = new Set(text.split('\n'));
    expect(reviewedAgainst().filter((line) => !lines.has(line))).toEqual([]);
    const listed = text.split('\n').filter((line) => /^- (Route|Fields of) /.test(line));
    expect(listed.filter((line) => !reviewedAgainst().includes(line))).toEqual([]);
  });
});

describe('the hazard log check itself', () => {
  const entry = (evidence: string) =>
    [
      '## H1. A wrong child is shown an alert',
      '**Description.** x',
      '**Controls.**',
      '- **C1.1** Check digits, `functions/core/nhs-number.ts`.',
      evidence,
    ].join('\n');

  it('fails on evidence naming a test title that does not exist, or a file that does not exist', () => {
    const bogus = parseHazardLog(entry('  - `test/unit/core.test.ts` › accepts any ten digits whatever'));
    expect(bogus.problems).toEqual([]);
    expect(missingEvidence(bogus)).toEqual([
      `${LOG_PATH}:5: C1.1 cites "accepts any ten digits whatever", which is no test title in test/unit/core.test.ts`,
    ]);
    const noFile = parseHazardLog(entry('  - `test/unit/no-such.test.ts` › accepts %s (valid check digit)'));
    expect(missingEvidence(noFile)).toEqual([
      `${LOG_PATH}:5: C1.1 cites test/unit/no-such.test.ts, which does not exist`,
    ]);
    const real = parseHazardLog(entry('  - `test/unit/core.test.ts` › accepts %s (valid check digit)'));
    expect(missingEvidence(real)).toEqual([]);
  });

  it('fails on a malformed evidence line, naming its line', () => {
    for (const malformed of [
      '  - test/unit/core.test.ts › accepts %s (valid check digit)',
      '  - `test/unit/core.test.ts` > accepts %s (valid check digit)',
      '- `test/unit/core.test.ts` › accepts %s (valid check digit)',
      '  - `docs/api.md` › accepts %s (valid check digit)',
    ]) {
      expect(parseHazardLog(entry(malformed)).problems).toEqual([
        expect.stringMatching(new RegExp(`^${LOG_PATH}:5: malformed evidence line`)),
      ]);
    }
  });
});
