/**
 * Which of a council's numbers to show first. Duty teams answer their office number on weekdays from
 * 09:00 to 17:00 UK time; outside those hours (and at weekends) the emergency duty team answers.
 * Bank holidays are not known here: on one, the office number still comes first, and both are shown.
 */
const LONDON = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  weekday: 'short',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

export function isOfficeHours(at: Date): boolean {
  const parts = Object.fromEntries(LONDON.formatToParts(at).map((part) => [part.type, part.value]));
  if (parts.weekday === 'Sat' || parts.weekday === 'Sun') return false;
  const minutes = Number(parts.hour) * 60 + Number(parts.minute);
  return minutes >= 9 * 60 && minutes < 17 * 60;
}

export interface CouncilPhones {
  officeHoursPhone: string | null;
  emergencyDutyPhone: string;
}

export interface PhoneToShow {
  kind: 'emergency-duty' | 'office-hours';
  label: string;
  number: string;
}

/** Both numbers (the office one only when the council gave it), the one that answers now first. */
export function phonesInOrder(council: CouncilPhones, at: Date): PhoneToShow[] {
  const emergency: PhoneToShow = {
    kind: 'emergency-duty',
    label: 'Emergency duty team (out of hours)',
    number: council.emergencyDutyPhone,
  };
  if (!council.officeHoursPhone) return [emergency];
  const office: PhoneToShow = {
    kind: 'office-hours',
    label: 'Office hours (weekdays 9am to 5pm)',
    number: council.officeHoursPhone,
  };
  return isOfficeHours(at) ? [office, emergency] : [emergency, office];
}

/**
 * A `tel:` address for a number as councils write it: digits and a leading +, nothing else. The UK's
 * "(0)" after a country code is dialled only from inside the country, so it is dropped there.
 */
export function telHref(number: string): string {
  const trimmed = number.trim();
  const international = trimmed.startsWith('+');
  const dialled = international ? trimmed.replace(/\(\s*0\s*\)/, '') : trimmed;
  return `tel:${international ? '+' : ''}${dialled.replace(/[^0-9]/g, '')}`;
}
