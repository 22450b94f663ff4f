import { routeHandler, store } from './api-wiring';
import type { UploadMode } from './core/uploads';
import { environments, readEnvironment } from './environment';
import { parseCsvUpload, parseJsonUpload, uploadPlans } from './features/upload-plans';
import { parseJson, type RawBody } from './http/api-handler';
import { BODY_LIMIT_BYTES } from './http/routes';

/** Read at cold start, so that a bad setting fails the function's start-up rather than each upload. */
const env = readEnvironment(environments.upload);
const settings = {
  writeConcurrency: Number(env.PLAN_WRITE_CONCURRENCY),
  snapshotMaxEndShare: Number(env.SNAPSHOT_MAX_END_SHARE),
  rowsPerTransaction: Number(env.UPLOAD_ROWS_PER_TRANSACTION),
};

/** Under BODY_LIMIT_BYTES: the web ACL refuses that size before it reaches here. */
const MAX_BODY_BYTES = BODY_LIMIT_BYTES - 1;

export const handler = routeHandler<RawBody, { mode?: UploadMode; force?: boolean; dryRun?: boolean }>(
  'upload',
  async ({ params, body, query, claims }) => ({
    status: 200,
    body: await uploadPlans(
      store(),
      {
        councilCode: params.councilCode as string,
        upload:
          body.contentType === 'text/csv' ? parseCsvUpload(body.text) : parseJsonUpload(parseJson(body.text)),
        mode: query.mode,
        force: query.force,
        dryRun: query.dryRun,
        actor: claims,
      },
      settings,
    ),
  }),
  { maxBodyBytes: MAX_BODY_BYTES },
);
