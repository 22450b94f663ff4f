/**
 * The web view's Content-Security-Policy, one definition for the local runtime (local/web-view.ts) and the
 * deployed response headers policy (stacks/web-view-stack.ts): its own scripts, styles and images only
 * (no inline code: the build emits none), calls to itself (the API) and the identity service, never
 * framed, no forms posted anywhere (the page submits by script, so an NHS number never enters a URL).
 */
export function webViewContentSecurityPolicy(issuer: string, options: { https: boolean }): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src 'self' ${new URL(issuer).origin}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    ...(options.https ? ['upgrade-insecure-requests'] : []),
  ].join('; ');
}
