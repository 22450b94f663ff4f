/**
 * The baseline side, in its own process so that it pays the same process costs as the service: runs
 * the direct SDK operations of bench/lib/direct-ops.ts at a given concurrency for a given time and
 * answers with the samples. Controlled over IPC by bench/lib/direct-worker.ts.
 */

import type { DirectJob } from './lib/direct-worker';
import { closedLoop, type LoadSample } from './lib/load';
import { benchNhsNumber } from './lib/nhs';

const send = (message: unknown) => process.send?.(message);

async function runJob(job: DirectJob): Promise<LoadSample> {
  // Import after the environment is in place: SDK clients are module singletons.
  const { directLookup, directPublish } = await import('./lib/direct-ops');
  if (job.op === 'lookup') {
    const { tableName, pool, claims, expectPlans } = job;
    return closedLoop(job.concurrency, job.seconds, async () => {
      const nhsNumber = benchNhsNumber(pool.start + Math.floor(Math.random() * pool.count));
      const plans = await directLookup(tableName, nhsNumber, claims);
      if (plans > 0 !== expectPlans)
        throw new Error(`${nhsNumber}: expected ${expectPlans ? 'plans' : 'none'}, read ${plans}`);
    });
  }
  let next = job.firstSeed;
  return closedLoop(job.concurrency, job.seconds, () =>
    directPublish(job.tableName, job.councilCode, benchNhsNumber(next++), 'CPP', job.startDate, job.claims),
  );
}

process.on('message', (message: (DirectJob | { op: 'stats' }) & { id: number }) => {
  if (message.op === 'stats') {
    const usage = process.resourceUsage();
    send({ id: message.id, ok: true, value: { cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000 } });
    return;
  }
  runJob(message).then(
    (value) => send({ id: message.id, ok: true, value }),
    (error) => send({ id: message.id, ok: false, error: String((error as Error)?.stack ?? error) }),
  );
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', pid: process.pid });
