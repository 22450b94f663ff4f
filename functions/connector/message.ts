/**
 * What the connector needs of a council message before handing it on: its eventId (the
 * de-duplication key, also part of a drop file's name) and occurredAt (the start of that name). It
 * reads no more than that, so a message with fields added later still passes through unchanged; the
 * full contract is asyncapi.json.
 */

/** Safe in a file name and an HTTP header: ULIDs, UUIDs and the like. */
const EVENT_ID = /^[A-Za-z0-9_-]{1,128}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

export interface MessageEnvelope {
  eventId: string;
  type: string;
  /** occurredAt as 20261120T021409120Z: fixed width, so names sort by time. */
  compactTime: string;
}

/** A message that cannot be handed on whatever the receiver does: retries go to the dead-letter queue. */
export class MalformedMessage extends Error {
  override name = 'MalformedMessage';
}

export function readEnvelope(body: string): MessageEnvelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new MalformedMessage('the message body is not JSON');
  }
  const { eventId, type, occurredAt } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof eventId !== 'string' || !EVENT_ID.test(eventId)) {
    throw new MalformedMessage('eventId is missing or not 1 to 128 letters, digits, _ or -');
  }
  if (typeof type !== 'string' || type.length === 0) throw new MalformedMessage('type is missing');
  if (typeof occurredAt !== 'string' || !INSTANT.test(occurredAt) || Number.isNaN(Date.parse(occurredAt))) {
    throw new MalformedMessage('occurredAt is missing or not an ISO 8601 UTC instant');
  }
  const compactTime = new Date(occurredAt).toISOString().replace(/[-:.]/g, '');
  return { eventId, type, compactTime };
}
