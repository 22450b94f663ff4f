/** Set-up requests to a service: never the measured ones. */
import type { ApiAnswer, ApiClient } from '../../testkit/councils';

/**
 * fetch for set-up calls (registering councils, publishing fixtures): retries a request that failed at
 * the network level, e.g. a kept-alive socket the server closed meanwhile, which a loaded machine makes
 * likely. Only for idempotent requests; measured requests never go through here.
 */
export async function setupFetch(url: string, init: RequestInit = {}, attempts = 4): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, init);
    } catch (error) {
      if (attempt >= attempts) {
        const cause = (error as { cause?: unknown }).cause;
        throw new Error(
          `${init.method ?? 'GET'} ${url} failed: ${String(error)}${cause ? ` (${String(cause)})` : ''}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

/** The service at `url` for testkit's council helpers, over setupFetch: bearer token, JSON body. */
export function setupApi(url: string): ApiClient {
  return {
    async request(method, path, { token, body, headers }): Promise<ApiAnswer> {
      const response = await setupFetch(`${url}${path}`, {
        method,
        headers: {
          ...headers,
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, text: await response.text() };
    },
  };
}
