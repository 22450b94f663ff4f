/** The web view's pure parts: office hours in UK time, the order of a council's numbers, NHS number input. */
import { readNhsNumber } from '../../web/src/nhs-number-input';
import { isOfficeHours, phonesInOrder, telHref } from '../../web/src/office-hours';

describe('office hours (weekdays 09:00 to 17:00, Europe/London)', () => {
  it.each([
    ['2026-12-07T09:00:00Z', true, 'Monday 09:00 GMT, the first minute'],
    ['2026-12-07T08:59:59Z', false, 'Monday 08:59 GMT'],
    ['2026-12-07T16:59:00Z', true, 'Monday 16:59 GMT'],
    ['2026-12-07T17:00:00Z', false, 'Monday 17:00 GMT, the first minute after'],
    ['2026-07-06T08:30:00Z', true, 'Monday 09:30 BST (08:30 UTC)'],
    ['2026-07-06T16:30:00Z', false, 'Monday 17:30 BST (16:30 UTC)'],
    ['2026-12-05T12:00:00Z', false, 'Saturday noon'],
    ['2026-12-06T12:00:00Z', false, 'Sunday noon'],
    ['2026-12-11T23:30:00Z', false, 'Friday night'],
  ])('%s is office hours: %s (%s)', (instant, expected) => {
    expect(isOfficeHours(new Date(instant))).toBe(expected);
  });

  it('after the clocks go forward (29 March 2026), office hours start at 08:00 UTC (09:00 BST)', () => {
    expect(isOfficeHours(new Date('2026-03-30T07:59:00Z'))).toBe(false);
    expect(isOfficeHours(new Date('2026-03-30T08:00:00Z'))).toBe(true);
  });
});

describe("the order of a council's numbers", () => {
  const council = { officeHoursPhone: '020 7946 0000', emergencyDutyPhone: '020 7946 0999' };

  it('office hours: the office number first, then the emergency duty number', () => {
    expect(phonesInOrder(council, new Date('2026-12-07T10:00:00Z')).map((phone) => phone.kind)).toEqual([
      'office-hours',
      'emergency-duty',
    ]);
  });

  it('out of hours: the emergency duty number first', () => {
    expect(phonesInOrder(council, new Date('2026-12-07T22:00:00Z')).map((phone) => phone.number)).toEqual([
      '020 7946 0999',
      '020 7946 0000',
    ]);
  });

  it('a council without an office number: the emergency duty number alone', () => {
    expect(
      phonesInOrder(
        { officeHoursPhone: null, emergencyDutyPhone: '0800 000 999' },
        new Date('2026-12-07T10:00:00Z'),
      ),
    ).toEqual([expect.objectContaining({ kind: 'emergency-duty', number: '0800 000 999' })]);
  });

  it('tel: links keep the digits and a leading +', () => {
    expect(telHref('020 7946 0999')).toBe('tel:02079460999');
    expect(telHref('+44 (0)20 7946-0999')).toBe('tel:+442079460999');
    expect(telHref('+44 20 7946 0999')).toBe('tel:+442079460999');
  });
});

describe('NHS number as typed', () => {
  it.each(['9990000018', '999 000 0018', ' 999-000-0018 '])('reads %j', (typed) => {
    expect(readNhsNumber(typed)).toEqual({ ok: true, nhsNumber: '9990000018' });
  });

  it.each([
    ['', 'Enter an NHS number'],
    ['999 000 001', 'NHS number must be 10 digits'],
    ['999 000 00a8', 'NHS number must only include numbers and spaces'],
    ['999 000 0019', 'Enter a valid NHS number: this one is mistyped (its last digit does not match)'],
  ])('refuses %j: %s', (typed, message) => {
    expect(readNhsNumber(typed)).toEqual({ ok: false, message });
  });
});
