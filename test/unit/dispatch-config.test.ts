/**
 * Deployed, the dispatch function learns each council's home region from COUNCIL_HOMES. A value it
 * cannot read stops the function at start with a message naming what to fix (the stream keeps the
 * records, and retries them until the failure destination's alarm fires): no notification is dropped
 * or sent astray.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';

process.env.AWS_REGION = 'eu-west-2';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
// The list of the stage's councils, not what the function needs: their codes by home region.
process.env.COUNCIL_HOMES = JSON.stringify(['E09000001']);
process.env.COUNCIL_QUEUE_URL_PREFIX = 'https://sqs.eu-west-2.amazonaws.com/222222222222/cpis-prod-council-';

const sqs = mockClient(SQSClient);

it('refuses to start, naming COUNCIL_HOMES and its form, and sends nothing', async () => {
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
  // A function whose environment is wrong fails its cold start: Lambda reports the init error and the
  // stream retries the batch, rather than each record failing one by one.
  await expect(import('../../functions/dispatch')).rejects.toThrow(
    /COUNCIL_HOMES must be a JSON object of council codes by region, e\.g\. \{"eu-west-2":\["E09000001"\]\}/,
  );
  expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
});
