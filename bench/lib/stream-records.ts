/**
 * Stream records as the dispatch function receives them, for the measures that invoke it directly.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { type AuditEntry, auditItem } from '../../functions/store/items';
import { clinicianClaims } from './callers';

/**
 * The INSERT of a notifying lookup's access record (its audit event, as the lookup writes it) carrying
 * one ChildRecordAccessed message with the given eventId.
 */
export function accessRecordInsert(options: {
  councilCode: string;
  nhsNumber: string;
  eventId: string;
  sequence: number;
}): DynamoDBRecord {
  const at = new Date().toISOString();
  const clinician = clinicianClaims(['B0107']);
  const item = auditItem(
    {
      subject: options.nhsNumber,
      action: 'LOOKUP_NOTIFYING',
      outcome: 'FOUND',
      actor: clinician as AuditEntry['actor'],
      at,
    },
    {
      access: { setting: clinician.setting ?? null, roleName: null, organisationName: null },
      messages: [
        {
          type: 'ChildRecordAccessed',
          eventId: options.eventId,
          occurredAt: at,
          councilCode: options.councilCode,
          nhsNumber: options.nhsNumber,
          planTypes: ['CPP'],
          accessedBy: {
            userId: clinician.sub,
            userName: clinician.name,
            roleName: null,
            organisation: clinician.org,
            organisationName: null,
            setting: clinician.setting ?? null,
          },
        },
      ],
    },
  );
  return {
    eventID: `bench-${options.sequence}`,
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'eu-west-2',
    eventSourceARN: 'arn:aws:dynamodb:ddblocal:000000000000:table/bench-main/stream/bench',
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      Keys: marshall({ PK: item.PK, SK: item.SK }) as never,
      NewImage: marshall(item, { removeUndefinedValues: true }) as never,
      SequenceNumber: String(options.sequence),
      SizeBytes: 512,
      StreamViewType: 'NEW_IMAGE',
    },
  };
}
