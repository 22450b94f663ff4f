import { lookupKind, MAX_PREVIOUS_ACCESSES, recentAccesses } from '../../functions/core/access-history';
import { addMonths, isIsoDate, todayUtc } from '../../functions/core/dates';
import { isValidNhsNumber, nhsCheckDigit } from '../../functions/core/nhs-number';
import {
  classifyPlanChange,
  comparePlansForDisplay,
  isPlanOpen,
  isPlanVisible,
  lastVisibleDay,
  type PlanType,
  planExpiry,
} from '../../functions/core/plans';
import { councilBodySchema, planBodySchema } from '../../functions/core/schemas';
import { validateRecord } from '../../functions/core/uploads';

describe('NHS numbers', () => {
  it.each(['9990000018', '9434765919', '4010232137'])('accepts %s (valid check digit)', (value) => {
    expect(isValidNhsNumber(value)).toBe(true);
  });

  it.each([
    ['9990000017', 'wrong check digit'],
    ['999000001', 'nine digits'],
    ['99900000181', 'eleven digits'],
    ['999000001a', 'a letter'],
    ['999 000 0018', 'spaces'],
    ['', 'empty'],
  ])('refuses %s (%s)', (value) => {
    expect(isValidNhsNumber(value)).toBe(false);
  });

  it('computes check digit 0 when 11 - remainder is 11', () => {
    let found: string | undefined;
    for (let n = 0; n < 1000 && !found; n++) {
      const nine = `999000${String(n).padStart(3, '0')}`;
      let sum = 0;
      for (let i = 0; i < 9; i++) sum += Number(nine[i]) * (10 - i);
      if (sum % 11 === 0) found = nine;
    }
    expect(found).toBeDefined();
    expect(nhsCheckDigit(found as string)).toBe(0);
    expect(isValidNhsNumber(`${found}0`)).toBe(true);
  });

  it('treats a remainder that gives check 10 as no valid number', () => {
    const withTen = Array.from({ length: 1000 }, (_, n) => `999000${String(n).padStart(3, '0')}`).find(
      (nine) => {
        let sum = 0;
        for (let i = 0; i < 9; i++) sum += Number(nine[i]) * (10 - i);
        return 11 - (sum % 11) === 10;
      },
    ) as string;
    expect(nhsCheckDigit(withTen)).toBeUndefined();
    for (let digit = 0; digit <= 9; digit++) expect(isValidNhsNumber(`${withTen}${digit}`)).toBe(false);
  });
});

describe('dates', () => {
  it.each(['2026-03-01', '2024-02-29', '2026-12-31'])('accepts %s', (value) =>
    expect(isIsoDate(value)).toBe(true),
  );
  it.each([
    '2026-02-29',
    '2026-13-01',
    '2026-00-10',
    '2026-04-31',
    '26-03-01',
    '2026-3-1',
    '2026-03-01T00:00:00Z',
  ])('refuses %s', (value) => expect(isIsoDate(value)).toBe(false));

  it('takes today in UTC, not local time', () => {
    expect(todayUtc(new Date('2026-11-25T23:59:59.999Z'))).toBe('2026-11-25');
    expect(todayUtc(new Date('2026-11-26T00:00:00.000Z'))).toBe('2026-11-26');
  });

  it('adds months, clamping 29 February to the 28th', () => {
    expect(addMonths('2026-03-15', 12)).toBe('2027-03-15');
    expect(addMonths('2024-02-29', 12)).toBe('2025-02-28');
    expect(addMonths('2026-01-31', 1)).toBe('2026-02-28');
    expect(addMonths('2026-12-31', 12)).toBe('2027-12-31');
  });
});

describe('plan visibility', () => {
  const ended = (endDate: string, planType: PlanType = 'CPP') => ({
    startDate: '2025-01-01',
    endDate,
    planType,
  });

  it('shows an open plan', () => {
    expect(isPlanVisible({ startDate: '2020-01-01', endDate: null, planType: 'CPP' }, '2030-01-01')).toBe(
      true,
    );
  });

  it('shows an ended plan up to and including 12 months after its end, and not the day after', () => {
    expect(lastVisibleDay('2026-03-15', 'CPP')).toBe('2027-03-15');
    expect(lastVisibleDay('2026-03-15', 'LAC')).toBe('2027-03-15');
    expect(isPlanVisible(ended('2026-03-15'), '2027-03-15')).toBe(true);
    expect(isPlanVisible(ended('2026-03-15'), '2027-03-16')).toBe(false);
  });

  it('shows an unborn-child plan 28 days after its end, and not the day after', () => {
    expect(lastVisibleDay('2026-03-15', 'UCPP')).toBe('2026-04-12');
    expect(isPlanVisible(ended('2026-03-15', 'UCPP'), '2026-04-12')).toBe(true);
    expect(isPlanVisible(ended('2026-03-15', 'UCPP'), '2026-04-13')).toBe(false);
    // Across a year end and a leap day.
    expect(lastVisibleDay('2027-12-20', 'UCPP')).toBe('2028-01-17');
    expect(lastVisibleDay('2028-02-10', 'UCPP')).toBe('2028-03-09');
  });

  it('expires a plan from the table the day after its last visible day, and never an open one', () => {
    expect(planExpiry(ended('2026-03-15', 'UCPP'))).toBe(Date.parse('2026-04-13T00:00:00Z') / 1000);
    expect(planExpiry(ended('2026-03-15', 'CPP'))).toBe(Date.parse('2027-03-16T00:00:00Z') / 1000);
    expect(planExpiry({ startDate: '2026-01-01', endDate: null, planType: 'LAC' })).toBeUndefined();
    // An end date near the format's last year: visible to its end, and never expired (not an error).
    expect(lastVisibleDay('9999-12-31', 'UCPP')).toBe('9999-12-31');
    expect(lastVisibleDay('9999-06-30', 'CPP')).toBe('9999-12-31');
    expect(isPlanVisible(ended('9999-12-31', 'UCPP'), '2026-12-07')).toBe(true);
    expect(planExpiry(ended('9999-12-31', 'CPP'))).toBeUndefined();
  });

  it('uses the 28th for a plan ended on 29 February', () => {
    expect(isPlanVisible(ended('2024-02-29'), '2025-02-28')).toBe(true);
    expect(isPlanVisible(ended('2024-02-29'), '2025-03-01')).toBe(false);
  });

  it('counts a plan with a future end date as open', () => {
    expect(isPlanOpen(ended('2026-12-01'), '2026-11-25')).toBe(true);
    expect(isPlanOpen(ended('2026-11-24'), '2026-11-25')).toBe(false);
    expect(isPlanOpen(ended('2026-11-25'), '2026-11-25')).toBe(false);
  });

  it('orders plans by start date, newest first', () => {
    const plans = [
      { planType: 'CPP', councilCode: 'A', startDate: '2026-01-01', endDate: null },
      { planType: 'LAC', councilCode: 'A', startDate: '2026-05-01', endDate: null },
      { planType: 'UCPP', councilCode: 'B', startDate: '2025-01-01', endDate: null },
    ];
    expect([...plans].sort(comparePlansForDisplay).map((plan) => plan.planType)).toEqual([
      'LAC',
      'CPP',
      'UCPP',
    ]);
  });

  it('classifies writes for the audit trail', () => {
    const open = { startDate: '2026-01-01', endDate: null };
    expect(classifyPlanChange(undefined, open)).toBe('PLAN_CREATED');
    expect(classifyPlanChange(open, { ...open })).toBe('UNCHANGED');
    expect(classifyPlanChange(open, { ...open, endDate: '2026-06-01' })).toBe('PLAN_ENDED');
    expect(classifyPlanChange(open, { ...open, startDate: '2025-12-01' })).toBe('PLAN_UPDATED');
    expect(classifyPlanChange({ ...open, endDate: '2026-06-01' }, open)).toBe('PLAN_UPDATED');
  });
});

describe('access history', () => {
  it('caps at 25, newest first', () => {
    const accesses = Array.from({ length: 30 }, (_, i) => ({
      accessedAt: `2026-11-${String(i + 1).padStart(2, '0')}T00:00:00Z`,
    }));
    const shuffled = accesses
      .map((access, i) => ({ access, key: (i * 7) % 30 }))
      .sort((a, b) => a.key - b.key);
    const recent = recentAccesses(shuffled.map(({ access }) => access));
    expect(recent).toHaveLength(MAX_PREVIOUS_ACCESSES);
    expect(recent[0]?.accessedAt).toBe('2026-11-30T00:00:00Z');
    expect(recent[24]?.accessedAt).toBe('2026-11-06T00:00:00Z');
  });

  it('makes B0107 notifying even with B0170, B0170 alone silent', () => {
    expect(lookupKind(['B0107'])).toBe('NOTIFYING');
    expect(lookupKind(['B0170', 'B0107'])).toBe('NOTIFYING');
    expect(lookupKind(['B0170'])).toBe('SILENT');
    expect(lookupKind([])).toBeUndefined();
  });
});

describe('input rules', () => {
  it('takes plan dates from 1900-01-01, in bodies and upload rows alike', () => {
    const before = planBodySchema().safeParse({ startDate: '1899-12-31' });
    expect(before.success).toBe(false);
    expect(before.error?.issues[0]?.message).toBe('startDate must be on or after 1900-01-01');
    expect(planBodySchema().safeParse({ startDate: '0000-01-01' }).success).toBe(false);
    expect(planBodySchema().safeParse({ startDate: '1900-01-01', endDate: '0026-01-01' }).success).toBe(
      false,
    );
    expect(planBodySchema().safeParse({ startDate: '1900-01-01' }).success).toBe(true);
    const row = { nhsNumber: '9990000018', planType: 'CPP', startDate: '0000-03-01', endDate: '' };
    expect(validateRecord(1, row, '2026-12-07')).toMatchObject({
      outcome: 'REJECTED',
      code: 'INVALID_DATE',
      message: 'startDate must be on or after 1900-01-01',
    });
    expect(validateRecord(1, { ...row, startDate: '1900-01-01' }, '2026-12-07')).toMatchObject({ row: 1 });
  });

  it.each([
    ['a right-to-left override', 'Borough of \u202Eelpmaxe'],
    ['a control character', 'Borough\u0007 of Example'],
    ['a zero-width space', 'Borough\u200B of Example'],
    ['a line separator', 'Borough\u2028of Example'],
    ['121 characters', 'B'.repeat(121)],
  ])('refuses a council name with %s', (_what, name) => {
    const body = { name, emergencyDutyPhone: '020 7946 0999' };
    expect(councilBodySchema().safeParse(body).success).toBe(false);
  });

  it('takes printable council names up to 120 characters, accents and all', () => {
    for (const name of ['Cyngor Sir Ynys Môn', 'London Borough of Example', 'B'.repeat(120)]) {
      expect(councilBodySchema().safeParse({ name, emergencyDutyPhone: '020 7946 0999' }).success).toBe(true);
    }
  });
});
