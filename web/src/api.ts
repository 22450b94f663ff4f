/** The two calls the page makes, and what each failure means to the person using it. */

export interface Council {
  code: string;
  name: string;
  officeHoursPhone: string | null;
  emergencyDutyPhone: string;
}

export interface Plan {
  planType: 'CPP' | 'LAC' | 'UCPP';
  startDate: string;
  endDate: string | null;
  council: Council;
}

export interface PreviousAccess {
  accessedAt: string;
  userId: string;
  userName: string;
  roleName?: string | null;
  organisation: string;
  organisationName?: string | null;
  setting: string | null;
}

export interface AlertAnswer {
  nhsNumber: string;
  supersededBy?: string;
  hasAlert: boolean;
}

export interface DetailsAnswer {
  nhsNumber: string;
  supersededBy?: string;
  plans: Plan[];
  previousAccesses: PreviousAccess[];
}

export type Failure =
  | { kind: 'signed-out' }
  | { kind: 'forbidden'; message: string }
  | { kind: 'throttled'; retryAfterSeconds: number }
  | { kind: 'api-unreachable' }
  | { kind: 'failed'; status: number };

export type Outcome<T> = { ok: true; value: T } | { ok: false; failure: Failure };

/** Logged without personal data: the call's name and the status, never the path (it holds the NHS number). */
function logFailure(call: string, failure: Failure): void {
  console.error(`Child protection alerts: ${call} failed (${failure.kind})`);
}

async function get<T>(apiBase: string, path: string, call: string, token: string): Promise<Outcome<T>> {
  let response: Response;
  try {
    response = await fetch(`${apiBase}${path}`, {
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    const failure: Failure = { kind: 'api-unreachable' };
    logFailure(call, failure);
    return { ok: false, failure };
  }
  if (response.ok) return { ok: true, value: (await response.json()) as T };
  let failure: Failure;
  if (response.status === 401) failure = { kind: 'signed-out' };
  else if (response.status === 403) {
    const body = (await response.json().catch(() => undefined)) as
      | { error?: { message?: string } }
      | undefined;
    failure = { kind: 'forbidden', message: body?.error?.message ?? 'Your role does not allow this.' };
  } else if (response.status === 429) {
    const seconds = Number(response.headers.get('Retry-After'));
    failure = {
      kind: 'throttled',
      retryAfterSeconds: Number.isFinite(seconds) && seconds > 0 ? seconds : 60,
    };
  } else if (response.status === 502 || response.status === 503 || response.status === 504)
    failure = { kind: 'api-unreachable' };
  else failure = { kind: 'failed', status: response.status };
  logFailure(call, failure);
  return { ok: false, failure };
}

export const api = {
  /** The presence check: notifies nobody. */
  checkAlert: (apiBase: string, nhsNumber: string, token: string) =>
    get<AlertAnswer>(apiBase, `/v1/children/${nhsNumber}/alert`, 'presence check', token),
  /** The lookup: for a clinician holding B0107, the access that tells the councils. */
  openDetails: (apiBase: string, nhsNumber: string, token: string) =>
    get<DetailsAnswer>(apiBase, `/v1/children/${nhsNumber}`, 'details', token),
};
