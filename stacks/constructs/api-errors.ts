/**
 * Errors API Gateway answers itself (before or instead of a function) in the contract's shape:
 * `{ "error": { "code", "message" } }` with Cache-Control: no-store and X-Request-Id.
 */
import {
  type IResource,
  MockIntegration,
  PassthroughBehavior,
  ResponseType,
  type RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { UNAUTHENTICATED_MESSAGE } from '../../functions/http/errors';

interface GatewayError {
  types: ResponseType[];
  /** Omitted: keep API Gateway's own status for the type (e.g. 502 or 504 for integration failures). */
  status?: string;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

/** API Gateway's payload limit. */
export const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

export const GATEWAY_ERRORS: readonly GatewayError[] = [
  {
    types: [
      ResponseType.UNAUTHORIZED,
      ResponseType.ACCESS_DENIED,
      ResponseType.EXPIRED_TOKEN,
      ResponseType.INVALID_SIGNATURE,
    ],
    status: '401',
    code: 'UNAUTHENTICATED',
    message: UNAUTHENTICATED_MESSAGE,
  },
  {
    // With a TOKEN authorizer on every route, this type only arises for a path with no route.
    types: [ResponseType.MISSING_AUTHENTICATION_TOKEN, ResponseType.RESOURCE_NOT_FOUND],
    status: '404',
    code: 'NOT_FOUND',
    message: 'No route matches this method and path',
  },
  {
    types: [ResponseType.THROTTLED, ResponseType.QUOTA_EXCEEDED],
    status: '429',
    code: 'THROTTLED',
    message: 'Too many requests: try again in 1 seconds',
    headers: { 'Retry-After': "'1'" },
  },
  {
    // Blocks by AWS managed rules. Rate-based rules answer 429 with their own custom response.
    types: [ResponseType.WAF_FILTERED],
    status: '403',
    code: 'FORBIDDEN',
    message: 'The request was refused by the web application firewall',
  },
  {
    types: [ResponseType.REQUEST_TOO_LARGE],
    status: '413',
    code: 'PAYLOAD_TOO_LARGE',
    message: `The request body must be at most ${GATEWAY_MAX_BODY_BYTES} bytes`,
  },
  {
    types: [ResponseType.UNSUPPORTED_MEDIA_TYPE],
    status: '415',
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'Send the body as application/json (or text/csv for uploads)',
  },
  {
    types: [ResponseType.BAD_REQUEST_PARAMETERS, ResponseType.BAD_REQUEST_BODY],
    status: '400',
    code: 'VALIDATION_FAILED',
    message: 'The request is missing a required parameter',
  },
  {
    types: [ResponseType.DEFAULT_4XX],
    status: '400',
    code: 'VALIDATION_FAILED',
    message: 'The request could not be accepted',
  },
  {
    types: [ResponseType.DEFAULT_5XX],
    code: 'INTERNAL',
    message: 'Something went wrong on our side; the request can be retried',
  },
];

export const errorBody = (code: string, message: string): string =>
  JSON.stringify({ error: { code, message } });

const CONTRACT_HEADERS = {
  'Cache-Control': "'no-store'",
  'X-Request-Id': 'context.requestId',
  'X-Content-Type-Options': "'nosniff'",
};

/** Every gateway-generated error in the contract's body, with its headers. */
export function addGatewayErrors(api: RestApi): void {
  for (const error of GATEWAY_ERRORS) {
    for (const type of error.types) {
      api.addGatewayResponse(`Error${type.responseType}`, {
        type,
        statusCode: error.status,
        responseHeaders: { ...CONTRACT_HEADERS, ...error.headers },
        templates: { 'application/json': errorBody(error.code, error.message) },
      });
    }
  }
}

/**
 * Media types a wrong-method request may carry and still get 405: a mock integration needs a request
 * template per media type, and refuses (415) the ones it lacks.
 */
const MOCK_MEDIA_TYPES = [
  'application/json',
  'text/csv',
  'text/plain',
  'application/xml',
  'text/xml',
  'application/octet-stream',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
];

/**
 * Answers 405 METHOD_NOT_ALLOWED, with an Allow header naming the path's methods, to every method the
 * resource does not route (API Gateway prefers a resource's explicit methods over ANY).
 */
export function addMethodNotAllowed(resource: IResource, allowed: readonly string[]) {
  const allow = [...allowed].sort().join(', ');
  const headers = {
    Allow: `'${allow}'`,
    'Cache-Control': "'no-store'",
    'X-Request-Id': 'context.requestId',
    'X-Content-Type-Options': "'nosniff'",
  };
  return resource.addMethod(
    'ANY',
    new MockIntegration({
      passthroughBehavior: PassthroughBehavior.NEVER,
      requestTemplates: Object.fromEntries(MOCK_MEDIA_TYPES.map((type) => [type, '{"statusCode": 405}'])),
      integrationResponses: [
        {
          statusCode: '405',
          responseParameters: Object.fromEntries(
            Object.entries(headers).map(([name, value]) => [`method.response.header.${name}`, value]),
          ),
          responseTemplates: {
            'application/json': errorBody('METHOD_NOT_ALLOWED', `This path allows ${allow}`),
          },
        },
      ],
    }),
    {
      methodResponses: [
        {
          statusCode: '405',
          responseParameters: Object.fromEntries(
            Object.keys(headers).map((name) => [`method.response.header.${name}`, true]),
          ),
        },
      ],
    },
  );
}
