/**
 * The council connector's core: hand one message on, at most once per eventId as far as the delivered
 * store knows. The order is deliver, then record, then (the caller) delete from the queue:
 * - a crash before the delivery: SQS delivers the message again and it is handed on;
 * - a crash between delivery and record: it is handed on again (the receiver de-duplicates by eventId,
 *   which travels in the X-Event-Id header and the body; a drop file is rewritten under the same name);
 * - a crash between record and delete: SQS delivers it again, the store knows it, it is only deleted.
 * Recording before delivering would lose a message on a crash between the two, so it is not done.
 */
import type { DeliveredStore } from './delivered-store';
import type { Destination } from './destinations';
import { readEnvelope } from './message';

export type Outcome =
  | { kind: 'delivered'; eventId: string }
  | { kind: 'duplicate'; eventId: string }
  | { kind: 'failed'; eventId: string | undefined; reason: string };

export async function handOn(
  body: string,
  store: DeliveredStore,
  destination: Destination,
): Promise<Outcome> {
  let eventId: string | undefined;
  try {
    const envelope = readEnvelope(body);
    eventId = envelope.eventId;
    if (await store.has(eventId)) return { kind: 'duplicate', eventId };
    await destination.deliver(body, envelope);
    await store.add(eventId);
    return { kind: 'delivered', eventId };
  } catch (error) {
    return { kind: 'failed', eventId, reason: (error as Error).message };
  }
}

/** Seconds to keep a failed message out of sight before its next attempt: doubling, capped. */
export function backoffSeconds(receiveCount: number, baseSeconds: number, maxSeconds: number): number {
  const exponent = Math.max(0, Math.min(receiveCount - 1, 30));
  return Math.min(maxSeconds, Math.round(baseSeconds * 2 ** exponent));
}
