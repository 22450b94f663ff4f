import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * Fake credentials and region shared by every local process: DynamoDB Local keeps one database per
 * access key and region, so the server, the CLIs and the tests must all use the same ones.
 */
export const LOCAL_AWS_ENV = {
  AWS_REGION: 'eu-west-2',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
} as const;

export function useLocalAws(endpoints: { dynamodb: string; sqs: string }): void {
  Object.assign(process.env, LOCAL_AWS_ENV, {
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
}

/** An SQS client for fauxqs at `endpoint`, with the shared local credentials (fauxqs queue URLs name a *.localhost host). */
export function localSqsClient(endpoint: string): SQSClient {
  return new SQSClient({
    endpoint,
    region: LOCAL_AWS_ENV.AWS_REGION,
    credentials: {
      accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID,
      secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY,
    },
    useQueueUrlAsEndpoint: false,
  });
}
