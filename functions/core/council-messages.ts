/**
 * The messages a council receives on its queue, as schemas: `npm run asyncapi` renders them into
 * asyncapi.json, and compiles from that the validators the dispatch function checks every message with
 * before sending it (notify/council-message-check.ts). Apart from schemas.ts so that the API functions,
 * which only write these messages, do not build them.
 */
import * as z from 'zod/mini';
import { CouncilCodeSchema, dateTime, NhsNumberSchema, PlanTypeSchema } from './schemas';

/** The notification a council receives on its queue when one of its children is looked up. */
export const ChildRecordAccessedSchema = z
  .strictObject({
    type: z.literal('ChildRecordAccessed'),
    eventId: z.string().check(z.minLength(1)),
    occurredAt: dateTime(),
    councilCode: CouncilCodeSchema,
    nhsNumber: NhsNumberSchema,
    planTypes: z.array(PlanTypeSchema).check(z.minLength(1)),
    accessedBy: z.strictObject({
      userId: z.string(),
      userName: z.string(),
      // Null when the viewer's token did not carry them; absent only in messages recorded before they existed.
      roleName: z.optional(z.nullable(z.string())),
      organisation: z.string(),
      organisationName: z.optional(z.nullable(z.string())),
      setting: z.nullable(z.string()),
    }),
  })
  .check(z.meta({ id: 'ChildRecordAccessed' }));
export type ChildRecordAccessed = z.infer<typeof ChildRecordAccessedSchema>;

export const NhsNumberSupersededSchema = z
  .strictObject({
    type: z.literal('NhsNumberSuperseded'),
    eventId: z.string().check(z.minLength(1)),
    occurredAt: dateTime(),
    councilCode: CouncilCodeSchema,
    oldNhsNumber: NhsNumberSchema,
    newNhsNumber: NhsNumberSchema,
  })
  .check(z.meta({ id: 'NhsNumberSuperseded' }));

export const CouncilMessageSchema = z.discriminatedUnion('type', [
  ChildRecordAccessedSchema,
  NhsNumberSupersededSchema,
]);
export type CouncilMessage = z.infer<typeof CouncilMessageSchema>;
