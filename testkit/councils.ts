/**
 * The standard councils, and registering a council and publishing its plans over the service's HTTP
 * API, as a council's case system does, through whatever client the caller sends requests with.
 */
import { tokens } from './tokens';

/** The council profile of the README's worked example. */
export const EXAMPLE_COUNCIL = {
  name: 'London Borough of Example',
  officeHoursPhone: '020 7946 0000',
  emergencyDutyPhone: '020 7946 0999',
};

/** The benchmarks' council profile: the example's duty phones under a name of its own. */
export const BENCH_COUNCIL = { ...EXAMPLE_COUNCIL, name: 'Benchmark Borough Council' };

/** What the helpers send: a bearer token, a JSON body, extra headers. */
export interface ApiRequest {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** What the helpers read of an answer. */
export interface ApiAnswer {
  status: number;
  text: string;
}

/** Sends a request to the service (path from /v1) and answers with the caller's kind of response. */
export interface ApiClient<Answer extends ApiAnswer = ApiAnswer> {
  request(method: string, path: string, request: ApiRequest): Promise<Answer>;
}

/**
 * PUT /v1/councils/{code} with the council's own token (unless given one); anything but 200 throws.
 */
export async function registerCouncil<Answer extends ApiAnswer>(
  api: ApiClient<Answer>,
  code: string,
  body: object = EXAMPLE_COUNCIL,
  options: { token?: string } = {},
): Promise<Answer> {
  const response = await api.request('PUT', `/v1/councils/${code}`, {
    token: options.token ?? (await tokens.council(code)),
    body,
  });
  if (response.status !== 200)
    throw new Error(`registering ${code} answered ${response.status} ${response.text}`);
  return response;
}

/** PUT /v1/councils/{code}/plans/{nhsNumber}/{planType} with the council's own token (unless given one). */
export async function publishPlan<Answer extends ApiAnswer>(
  api: ApiClient<Answer>,
  code: string,
  nhsNumber: string,
  planType: string,
  body: object,
  options: { headers?: Record<string, string>; token?: string } = {},
): Promise<Answer> {
  return api.request('PUT', `/v1/councils/${code}/plans/${nhsNumber}/${planType}`, {
    token: options.token ?? (await tokens.council(code)),
    body,
    headers: options.headers,
  });
}
