/**
 * Items as stored, and their parsing back into domain types. Every item read goes through a schema:
 * an item of the wrong shape fails loudly instead of flowing on as a half-typed object. Each schema is
 * built on its first parse: most functions read only some kinds of item (docs/adr/0051).
 */
import * as z from 'zod/mini';
import { lazily } from '../core/lazily';
import type { PlanType } from '../core/plans';
import { PLAN_TYPES, planExpiry } from '../core/plans';
import {
  AUDIT_ACTIONS,
  AUDIT_OUTCOMES,
  type AuditEvent,
  type Claims,
  type Council,
  type CouncilMessage,
  type PreviousAccess,
  ROLES,
} from '../core/schemas';
import { newId } from './ids';
import { keys, SK_PROFILE } from './keys';
import { tableDefinition } from './table-definition';

export interface StoredPlan {
  nhsNumber: string;
  planType: PlanType;
  councilCode: string;
  startDate: string;
  endDate: string | null;
  version: number;
}

/** Sensitivity and supersession of one NHS number (its status item). */
export interface NhsNumberMarkers {
  supersededBy?: string;
  sensitive: boolean;
}

export interface AuditEntry {
  subject: string;
  action: AuditEvent['action'];
  outcome: AuditEvent['outcome'];
  actor: Pick<Claims, 'sub' | 'name' | 'org' | 'role'>;
  at: string;
  planType?: PlanType;
  councilCode?: string;
}

/**
 * What an audit event may carry besides the event: `access` makes it the access record of a notifying
 * lookup that found plans; `messages` are council notifications the dispatch function sends when the
 * event is written.
 */
export interface AuditExtras {
  access?: { setting: string | null; roleName: string | null; organisationName: string | null };
  messages?: readonly CouncilMessage[];
}

const planItemSchema = lazily(() =>
  z.object({
    nhsNumber: z.string(),
    planType: z.enum(PLAN_TYPES),
    councilCode: z.string(),
    startDate: z.string(),
    endDate: z.optional(z.string()),
    version: z.number(),
  }),
);

const councilItemSchema = lazily(() =>
  z.object({
    code: z.string(),
    name: z.string(),
    officeHoursPhone: z.optional(z.string()),
    emergencyDutyPhone: z.string(),
  }),
);

const statusItemSchema = lazily(() =>
  z.object({
    newNhsNumber: z.optional(z.string()),
    sensitive: z.optional(z.boolean()),
    replaces: z.optional(z.set(z.string())),
  }),
);

const auditItemSchema = lazily(() =>
  z.object({
    SK: z.string(),
    eventId: z.string(),
    at: z.string(),
    action: z.enum(AUDIT_ACTIONS),
    outcome: z.enum(AUDIT_OUTCOMES),
    actor: z.object({ sub: z.string(), name: z.string(), org: z.string(), role: z.enum(ROLES) }),
    planType: z.optional(z.enum(PLAN_TYPES)),
    councilCode: z.optional(z.string()),
    setting: z.optional(z.string()),
    count: z.optional(z.number()),
    roleName: z.optional(z.string()),
    organisationName: z.optional(z.string()),
  }),
);

type Item = Record<string, unknown>;

export function parsePlan(item: Item): StoredPlan {
  const { endDate, ...plan } = planItemSchema().parse(item);
  return { ...plan, endDate: endDate ?? null };
}

export function parseCouncil(item: Item): Council {
  const { officeHoursPhone, ...council } = councilItemSchema().parse(item);
  return { ...council, officeHoursPhone: officeHoursPhone ?? null };
}

/** Markers of a status item (none when the number has no status item). */
export function parseStatus(item: Item | undefined): NhsNumberMarkers & { replaces: string[] } {
  const status = item ? statusItemSchema().parse(item) : {};
  return {
    ...(status.newNhsNumber ? { supersededBy: status.newNhsNumber } : {}),
    sensitive: status.sensitive === true,
    replaces: [...(status.replaces ?? [])].sort(),
  };
}

export function parseAuditEvent(item: Item): AuditEvent {
  const event = auditItemSchema().parse(item);
  return {
    eventId: event.eventId,
    at: event.at,
    action: event.action,
    actor: event.actor,
    ...(event.planType ? { planType: event.planType } : {}),
    ...(event.councilCode ? { councilCode: event.councilCode } : {}),
    outcome: event.outcome,
    ...(event.count !== undefined ? { count: event.count } : {}),
  };
}

export function parseAccess(item: Item): PreviousAccess {
  const event = auditItemSchema().parse(item);
  return {
    accessedAt: event.at,
    userId: event.actor.sub,
    userName: event.actor.name,
    roleName: event.roleName ?? null,
    organisation: event.actor.org,
    organisationName: event.organisationName ?? null,
    setting: event.setting ?? null,
  };
}

/** A plan pointer as stored. */
export function planItem(plan: StoredPlan, updatedAt: string) {
  return {
    PK: keys.child(plan.nhsNumber),
    SK: keys.plan(plan.councilCode, plan.planType),
    kind: 'PLAN',
    nhsNumber: plan.nhsNumber,
    planType: plan.planType,
    councilCode: plan.councilCode,
    startDate: plan.startDate,
    endDate: plan.endDate ?? undefined,
    version: plan.version,
    updatedAt,
    // DynamoDB's time to live removes the plan once it can no longer be visible.
    [tableDefinition.timeToLiveAttribute]: planExpiry(plan),
    GSI1PK: keys.councilPlans(plan.councilCode),
    GSI1SK: keys.councilPlan(plan.nhsNumber, plan.planType),
  };
}

/** A council's directory entry as stored. */
export function councilItem(council: Council, updatedAt: string) {
  return {
    PK: keys.council(council.code),
    SK: SK_PROFILE,
    kind: 'COUNCIL',
    code: council.code,
    name: council.name,
    officeHoursPhone: council.officeHoursPhone ?? undefined,
    emergencyDutyPhone: council.emergencyDutyPhone,
    updatedAt,
    GSI1PK: keys.councilDirectory,
    GSI1SK: council.code,
  };
}

/**
 * An access record of a superseded number, copied onto its replacement: in the new number's access
 * range, so its lookups read one range, and marked `carriedFrom`, so its audit trail leaves it out.
 */
export function carriedAccessItem(
  access: Record<string, unknown>,
  fromNhsNumber: string,
  toNhsNumber: string,
) {
  const {
    PK: _pk,
    SK: _sk,
    [tableDefinition.notifiesAttribute]: _notifies,
    messages: _messages,
    ...event
  } = access;
  return {
    ...event,
    PK: keys.audit(toNhsNumber),
    SK: keys.auditAccess(String(access.at), newId()),
    carriedFrom: fromNhsNumber,
  };
}

/** An audit event as stored, under a new event id. */
export function auditItem(entry: AuditEntry, extras: AuditExtras = {}) {
  const eventId = newId();
  const notifies = (extras.messages?.length ?? 0) > 0;
  return {
    PK: keys.audit(entry.subject),
    SK: extras.access ? keys.auditAccess(entry.at, eventId) : keys.auditEvent(entry.at, eventId),
    kind: 'AUDIT',
    eventId,
    at: entry.at,
    action: entry.action,
    outcome: entry.outcome,
    actor: { sub: entry.actor.sub, name: entry.actor.name, org: entry.actor.org, role: entry.actor.role },
    planType: entry.planType,
    councilCode: entry.councilCode,
    ...(extras.access
      ? {
          setting: extras.access.setting ?? undefined,
          roleName: extras.access.roleName ?? undefined,
          organisationName: extras.access.organisationName ?? undefined,
        }
      : {}),
    ...(notifies ? { [tableDefinition.notifiesAttribute]: true, messages: extras.messages } : {}),
  };
}
