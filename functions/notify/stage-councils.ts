/**
 * Every council of the deployed stage, in whichever region it is homed (STAGE_COUNCIL_CODES, a JSON
 * array set by the stacks from the stage config). Locally unset: every registered council has a queue.
 * Kept apart from council-queues.ts so that registration reads it without loading the SQS client.
 */
let codes: ReadonlySet<string> | null | undefined;

export function stageCouncilCodes(): ReadonlySet<string> | null {
  if (codes !== undefined) return codes;
  const raw = process.env.STAGE_COUNCIL_CODES;
  if (raw === undefined) {
    codes = null;
    return codes;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((code) => typeof code === 'string' && code !== '')) {
    throw new Error('STAGE_COUNCIL_CODES must be a JSON array of council codes, e.g. ["E09000001"]');
  }
  codes = new Set(parsed);
  return codes;
}

/** A message for a council that no region of the stage has a queue for: it cannot be delivered. */
export class CouncilWithoutQueue extends Error {
  constructor(readonly councilCode: string) {
    super(`council ${councilCode} has no queue in any region of this stage`);
    this.name = 'CouncilWithoutQueue';
  }
}
