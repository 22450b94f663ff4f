/**
 * The baseline side, in its own process so that it pays the same process costs as the service: runs
 * the direct SDK operations of bench/lib/direct-ops.ts at a given concurrency for a given time and
 * answers with the samples. Controlled over IPC by bench/lib/direct-worker.ts.
 *
 * It can also serve the same lookups behind a bare HTTP server (the lookup measure's diagnostic floor):
 * `GET /v1/children/<nhsNumber>` issues directLookup's calls and answers with the items read, as JSON;
 * no token check, routing, middy or handler logic.
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { benchNhsNumber } from '../testkit/nhs-numbers';
import type { DirectJob, LookupServing } from './lib/direct-worker';
import { closedLoop, type LoadSample } from './lib/load';

const send = (message: unknown) => process.send?.(message);

async function runJob(job: DirectJob): Promise<LoadSample> {
  // Import after the environment is in place: SDK clients are module singletons.
  const { directLookup, directPublish } = await import('./lib/direct-ops');
  if (job.op === 'lookup') {
    const { tableName, pool, claims, expectPlans } = job;
    return closedLoop(job.concurrency, job.seconds, async () => {
      const nhsNumber = benchNhsNumber(pool.start + Math.floor(Math.random() * pool.count));
      const { plans } = await directLookup(tableName, nhsNumber, claims);
      if (plans.length > 0 !== expectPlans)
        throw new Error(`${nhsNumber}: expected ${expectPlans ? 'plans' : 'none'}, read ${plans.length}`);
    });
  }
  let next = job.firstSeed;
  return closedLoop(job.concurrency, job.seconds, () =>
    directPublish(job.tableName, job.councilCode, benchNhsNumber(next++), 'CPP', job.startDate, job.claims),
  );
}

let serving: LookupServing | undefined;
let server: Server | undefined;

/** Starts the bare HTTP server on first use; later calls change only what it serves. Answers its URL. */
async function serveLookups(settings: LookupServing): Promise<string> {
  serving = settings;
  if (!server) {
    const { directLookup } = await import('./lib/direct-ops');
    const bare = createServer((request, response) => {
      const nhsNumber = /^\/v1\/children\/(\d{10})$/.exec(request.url ?? '')?.[1];
      const current = serving as LookupServing;
      const answer = (status: number, body: unknown) => {
        const bytes = Buffer.from(JSON.stringify(body));
        response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': bytes.length });
        response.end(bytes);
      };
      if (!nhsNumber) return answer(404, { error: 'no such route' });
      directLookup(current.tableName, nhsNumber, current.claims).then(
        // A lookup that does not read what the workload expects fails the load, as on the other sides.
        (read) => answer(read.plans.length > 0 === current.expectPlans ? 200 : 500, read),
        (error) => answer(500, { error: String(error) }),
      );
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    server = bare;
  }
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

type Message = (DirectJob | { op: 'stats' } | ({ op: 'serve-lookups' } & LookupServing)) & { id: number };

process.on('message', (message: Message) => {
  const reply = (promise: Promise<unknown>) =>
    promise.then(
      (value) => send({ id: message.id, ok: true, value }),
      (error) => send({ id: message.id, ok: false, error: String((error as Error)?.stack ?? error) }),
    );
  if (message.op === 'stats') {
    const usage = process.resourceUsage();
    reply(Promise.resolve({ cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000 }));
  } else if (message.op === 'serve-lookups') {
    reply(serveLookups(message));
  } else {
    reply(runJob(message));
  }
});
process.on('disconnect', () => {
  server?.closeAllConnections();
  process.exit(0);
});
send({ type: 'ready', pid: process.pid });
