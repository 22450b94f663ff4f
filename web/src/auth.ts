/**
 * Sign-in with the stage's CIS2 issuer: authorization code with PKCE (oidc-client-ts). Tokens and the
 * sign-in's state live in this tab's sessionStorage only: gone when the tab closes, never in localStorage.
 */
import { type User, UserManager, WebStorageStateStore } from 'oidc-client-ts';

export interface PageConfig {
  issuer: string;
  clientId: string;
  /** Where the API answers: '' for the page's own origin. */
  apiBaseUrl: string;
}

export interface Viewer {
  name: string;
  roleName: string | null;
  organisation: string | null;
  /** The permission codes of the role signed in with, or undefined when the page cannot tell. */
  activities: string[] | undefined;
}

/** The page's own address without query or fragment: the redirect URI registered for the client. */
export const pageAddress = () => `${window.location.origin}${window.location.pathname}`;

export function userManager(config: PageConfig): UserManager {
  const store = new WebStorageStateStore({ store: window.sessionStorage });
  return new UserManager({
    authority: config.issuer,
    client_id: config.clientId,
    redirect_uri: pageAddress(),
    post_logout_redirect_uri: pageAddress(),
    response_type: 'code',
    scope: 'openid profile nationalrbacaccess',
    // Every sign-in chooses its role profile afresh: workstations are shared, and a refused role must
    // be able to sign in as another.
    prompt: 'login',
    userStore: store,
    stateStore: store,
    loadUserInfo: true,
    // No hidden frames (the page forbids framing): an ended session signs in again.
    automaticSilentRenew: false,
    monitorSession: false,
  });
}

interface RoleProfile {
  person_roleid?: string;
  org_code?: string;
  org_name?: string;
  role_name?: string;
  activity_codes?: unknown;
}

function decodePayload(token: string): Record<string, unknown> {
  try {
    const part = token.split('.')[1] ?? '';
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(json) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Who is signed in, from UserInfo in the CIS2 shape: the role profile whose id is selected_roleid. */
export function viewerOf(user: User): Viewer {
  const profile = user.profile as Record<string, unknown>;
  const token = decodePayload(user.access_token);
  const roles = (Array.isArray(profile.nhsid_nrbac_roles) ? profile.nhsid_nrbac_roles : []) as RoleProfile[];
  const selected = profile.selected_roleid ?? token.selected_roleid;
  const role =
    roles.find((candidate) => candidate.person_roleid === selected) ??
    (roles.length === 1 ? roles[0] : undefined);
  const codes = role?.activity_codes ?? token.activities;
  // CIS2 names organisations in nhsid_user_orgs, by the role profile's org_code.
  const orgs = (Array.isArray(profile.nhsid_user_orgs) ? profile.nhsid_user_orgs : []) as {
    org_code?: string;
    org_name?: string;
  }[];
  const orgName = orgs.find((org) => org.org_code === role?.org_code)?.org_name;
  return {
    name: typeof profile.name === 'string' ? profile.name : 'Signed in',
    roleName: role?.role_name ?? null,
    organisation: role?.org_name ?? orgName ?? role?.org_code ?? null,
    activities: Array.isArray(codes)
      ? codes.filter((code): code is string => typeof code === 'string')
      : undefined,
  };
}

/** B0107 makes the details an unscheduled-care access that tells the council; B0170 alone does not. */
export function notifies(viewer: Viewer): boolean | undefined {
  if (!viewer.activities) return undefined;
  return viewer.activities.includes('B0107');
}
