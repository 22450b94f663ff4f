import { createHmac } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Context, SQSEvent } from 'aws-lambda';
import { backoffSeconds, handOn } from '../../functions/connector/connector';
import { type DeliveredStore, JournalDeliveredStore } from '../../functions/connector/delivered-store';
import { type Destination, signature } from '../../functions/connector/destinations';
import { createHandler, fromEnvironment } from '../../functions/connector/lambda';
import { MalformedMessage, readEnvelope } from '../../functions/connector/message';

const journal = () => path.join(mkdtempSync(path.join(tmpdir(), 'journal-')), 'delivered.journal');
const body = (eventId: string) =>
  JSON.stringify({ type: 'ChildRecordAccessed', eventId, occurredAt: '2026-11-20T02:14:09.120Z' });

class MemoryStore implements DeliveredStore {
  readonly ids = new Set<string>();
  async has(eventId: string) {
    return this.ids.has(eventId);
  }
  async add(eventId: string) {
    this.ids.add(eventId);
  }
  async close() {}
}

describe('the delivered-eventId journal', () => {
  it('remembers what was added across a reopen, and ignores a torn last line', async () => {
    const file = journal();
    const store = await JournalDeliveredStore.open(file);
    await Promise.all(['A1', 'B2', 'C3'].map((id) => store.add(id)));
    await store.close();
    appendFileSync(file, 'D4 17'); // a crash mid-write: no newline
    const reopened = await JournalDeliveredStore.open(file);
    expect(await reopened.has('A1')).toBe(true);
    expect(await reopened.has('C3')).toBe(true);
    expect(await reopened.has('D4')).toBe(false);
    expect(reopened.size).toBe(3);
    await reopened.close();
    // Compacted on open: the torn line is gone.
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('forgets what is older than its retention, and keeps at most its bound (the newest)', async () => {
    const file = journal();
    let now = 1_000_000;
    const store = await JournalDeliveredStore.open(file, {
      now: () => now,
      retentionMs: 500,
      maxRemembered: 3,
    });
    for (const id of ['OLD', 'A', 'B', 'C', 'D']) {
      await store.add(id);
      now += id === 'OLD' ? 1000 : 1;
    }
    expect(store.size).toBe(3);
    expect(await store.has('A')).toBe(false);
    expect(await store.has('D')).toBe(true);
    await store.close();
    const reopened = await JournalDeliveredStore.open(file, { now: () => now, retentionMs: 500 });
    expect([await reopened.has('OLD'), await reopened.has('B'), await reopened.has('D')]).toEqual([
      false,
      true,
      true,
    ]);
    await reopened.close();
  });

  it('skips lines it cannot read', async () => {
    const file = journal();
    writeFileSync(file, `GOOD ${Date.now()}\n../../etc ${Date.now()}\nnot a line\n`);
    const store = await JournalDeliveredStore.open(file);
    expect(store.size).toBe(1);
    await store.close();
  });
});

describe('handing a message on', () => {
  const delivered: string[] = [];
  const destination: Destination = {
    description: 'test',
    async deliver(_body, envelope) {
      if (envelope.eventId.startsWith('FAIL')) throw new Error('receiver refused');
      delivered.push(envelope.eventId);
    },
  };

  beforeEach(() => {
    delivered.length = 0;
  });

  it('delivers, then records; a recorded eventId is not delivered again; a failure is not recorded', async () => {
    const store = new MemoryStore();
    expect(await handOn(body('E1'), store, destination)).toEqual({ kind: 'delivered', eventId: 'E1' });
    expect(await handOn(body('E1'), store, destination)).toEqual({ kind: 'duplicate', eventId: 'E1' });
    expect(await handOn(body('FAIL1'), store, destination)).toEqual({
      kind: 'failed',
      eventId: 'FAIL1',
      reason: 'receiver refused',
    });
    expect(delivered).toEqual(['E1']);
    expect([...store.ids]).toEqual(['E1']);
  });

  it('refuses bodies it cannot name safely: no JSON, an eventId that is not a plain token, no occurredAt', () => {
    expect(() => readEnvelope('not json')).toThrow(MalformedMessage);
    expect(() => readEnvelope(body('../../etc/passwd'))).toThrow(/eventId/);
    expect(() => readEnvelope(JSON.stringify({ type: 'X', eventId: 'E1' }))).toThrow(/occurredAt/);
    expect(readEnvelope(body('E1'))).toEqual({
      eventId: 'E1',
      type: 'ChildRecordAccessed',
      compactTime: '20261120T021409120Z',
    });
  });

  it('signs with sha256=<hex HMAC-SHA256 of the body>', () => {
    const text = body('E1');
    expect(signature('secret', text)).toBe(
      `sha256=${createHmac('sha256', 'secret').update(text).digest('hex')}`,
    );
  });

  it('backs off by doubling, capped', () => {
    expect([1, 2, 3, 4, 20].map((count) => backoffSeconds(count, 2, 30))).toEqual([2, 4, 8, 16, 30]);
    expect(backoffSeconds(3, 0, 30)).toBe(0);
  });

  it('as a Lambda: reports only the failed records as batch item failures', async () => {
    const store = new MemoryStore();
    store.ids.add('SEEN');
    const handler = createHandler(() => ({ destination, store }));
    const record = (messageId: string, eventId: string) =>
      ({ messageId, body: body(eventId), eventSource: 'aws:sqs', attributes: {} }) as never;
    const event: SQSEvent = { Records: [record('m1', 'NEW'), record('m2', 'SEEN'), record('m3', 'FAIL2')] };
    const result = await handler(event, { getRemainingTimeInMillis: () => 30_000 } as Context);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm3' }] });
    expect(delivered).toEqual(['NEW']);
    expect([...store.ids].sort()).toEqual(['NEW', 'SEEN']);
  });

  it('as a Lambda: names a missing or contradictory setting', () => {
    expect(() => fromEnvironment({})).toThrow(/CONNECTOR_TABLE_NAME/);
    expect(() => fromEnvironment({ CONNECTOR_TABLE_NAME: 't' })).toThrow(
      /exactly one of CONNECTOR_WEBHOOK_URL/,
    );
    expect(() =>
      fromEnvironment({
        CONNECTOR_TABLE_NAME: 't',
        CONNECTOR_DROP_DIR: '/x',
        CONNECTOR_WEBHOOK_URL: 'http://h/',
      }),
    ).toThrow(/exactly one/);
    expect(
      fromEnvironment({ CONNECTOR_TABLE_NAME: 't', CONNECTOR_WEBHOOK_URL: 'https://h.example/x' }).destination
        .description,
    ).toBe('webhook https://h.example/x');
  });
});
