/** Names shared by the functions and the stacks that alarm on their metrics (no Powertools import). */
export const SERVICE_NAME = 'child-protection-sharing';

export const METRIC_NAMES = {
  auditTrailChanges: 'AuditTrailChanges',
  undeliverableNotifications: 'UndeliverableNotifications',
  /** Tokens the authorizer refused because an identity service (discovery, JWKS, UserInfo) did not answer. */
  identityServiceUnreachable: 'IdentityServiceUnreachable',
} as const;
