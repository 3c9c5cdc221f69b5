// The OpenAPI 3.1 document of the admin API, served at /admin/api/v1/openapi.json.
// Built from the route table (api.ts) plus what each route accepts, so a route
// cannot exist undocumented: test/admin checks both directions.
import { ROLE_PERMISSIONS, ROLES, PERMISSIONS } from './roles.js';
import { ADMIN_API_PREFIX, ROUTES, type Route } from './api.js';
import { UPDATABLE_FIELDS } from '../clients/schema.js';

const reason = { type: 'string', minLength: 10, maxLength: 500, description: 'Why: recorded in the audit trail' };

/** The request body of each route that takes one, by "METHOD path". */
export const REQUEST_BODIES: Readonly<Record<string, object>> = {
  'POST /keys/rotate': {
    type: 'object',
    required: ['reason'],
    properties: { reason, alg: { type: 'string', description: 'Only this algorithm (default: every configured one)' }, use: { enum: ['sig', 'cookie'] } },
    additionalProperties: false,
  },
  'POST /keys/{kid}/revoke': { type: 'object', required: ['reason'], properties: { reason }, additionalProperties: false },
  'POST /operators/{accountId}/roles': {
    type: 'object',
    required: ['role', 'reason'],
    properties: { role: { enum: [...ROLES] }, reason },
    additionalProperties: false,
  },
  'POST /operators/{accountId}/roles/{role}/revoke': { type: 'object', required: ['reason'], properties: { reason }, additionalProperties: false },
  'POST /sources': {
    type: 'object',
    required: ['reason', 'id', 'kind', 'name_vi', 'name_en', 'discovery_url', 'client_id'],
    description: 'A source registration as README "Identity sources" describes it, plus a reason',
    properties: { reason },
  },
  'POST /sources/{id}': { type: 'object', required: ['reason'], description: 'Fields to change (as `nixa sources update --set`), plus a reason', properties: { reason } },
  'POST /sources/{id}/enable': { type: 'object', required: ['reason'], properties: { reason }, additionalProperties: false },
  'POST /sources/{id}/disable': { type: 'object', required: ['reason'], properties: { reason }, additionalProperties: false },
  'POST /sources/{id}/test': { type: 'object', properties: {}, additionalProperties: false },
  'POST /clients': {
    type: 'object',
    required: ['reason', 'name'],
    description: 'A relying-party registration as for `nixa clients add --from-json`, plus a reason',
    properties: { reason },
  },
  'POST /clients/{id}': {
    type: 'object',
    required: ['reason'],
    description: 'Fields to change (null clears an optional one); each is checked with the whole registration, as at registration',
    properties: {
      reason,
      // Every updatable field (clients/schema.ts): the document cannot leave one out.
      ...Object.fromEntries(UPDATABLE_FIELDS.map((f) => [f, {}])),
      min_level: { enum: ['low', 'substantial', 'high', null] },
      api_resource: { type: ['string', 'null'], format: 'uri' },
      // fapi2 from substantial up; standard there keeps the reason as why.
      security_profile: { enum: ['standard', 'fapi2'] },
      require_signed_request_object: { type: ['boolean', 'null'] },
      // Only from client_secret_basic, with jwks or jwks_uri.
      token_endpoint_auth_method: { enum: ['private_key_jwt'] },
    },
    additionalProperties: false,
  },
  'POST /accounts/lookup': {
    type: 'object',
    required: ['national_id', 'reason'],
    properties: { national_id: { type: 'string', pattern: '^[0-9]{12}$' }, reason },
    additionalProperties: false,
  },
  'POST /accounts/{id}/view': { type: 'object', required: ['reason'], properties: { reason }, additionalProperties: false },
  'POST /accounts/{id}/suspend': { type: 'object', required: ['reason'], properties: { reason }, additionalProperties: false },
  'POST /accounts/{id}/reinstate': { type: 'object', required: ['reason'], properties: { reason }, additionalProperties: false },
  'POST /accounts/{id}/unlock-factors': { type: 'object', required: ['reason'], properties: { reason }, additionalProperties: false },
  'POST /clients/{id}/disable': { type: 'object', required: ['reason'], properties: { reason }, additionalProperties: false },
  'POST /clients/{id}/rotate-secret': { type: 'object', required: ['reason'], properties: { reason }, additionalProperties: false },
};

/** Routes whose changes must carry the record's version in If-Match. */
const NEEDS_IF_MATCH = new Set([
  'POST /sources/{id}',
  'POST /sources/{id}/enable',
  'POST /sources/{id}/disable',
  'POST /clients/{id}',
  'POST /accounts/{id}/suspend',
  'POST /accounts/{id}/reinstate',
]);

/** Query parameters of the GET routes that take any. */
const QUERY_PARAMETERS: Readonly<Record<string, { name: string; description: string; schema: object }[]>> = {
  'GET /audit/events': [
    { name: 'from', description: 'Events at or after this time (ISO 8601)', schema: { type: 'string', format: 'date-time' } },
    { name: 'to', description: 'Events before this time (ISO 8601)', schema: { type: 'string', format: 'date-time' } },
    { name: 'event', description: 'One event name of the catalogue', schema: { type: 'string' } },
    { name: 'actor', description: 'operator:<account>, client:<id>, cli:<user>, account:<id>, system:…', schema: { type: 'string' } },
    { name: 'subject', description: 'What it was done to: an account, a client id, a kid, a source id', schema: { type: 'string' } },
    { name: 'limit', description: 'At most this many (1–500, default 50)', schema: { type: 'integer', minimum: 1, maximum: 500 } },
    { name: 'before', description: 'The next page: the `next` of the previous answer', schema: { type: 'integer' } },
  ],
};

const error = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'A stable nixa error code (README: Error codes)', examples: ['NIXA-INP-001'] },
    message: { type: 'string' },
    field: { type: 'string', description: 'The field that was wrong, for NIXA-INP-001' },
  },
};

function operation(r: Route) {
  const key = `${r.method} ${r.path}`;
  const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9._~-]{1,128}$' } }));
  const body = REQUEST_BODIES[key];
  const problem = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  return {
    summary: r.summary,
    operationId: key.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, ''),
    ...(r.permission ? { 'x-nixa-permission': r.permission } : {}),
    ...(params.length || NEEDS_IF_MATCH.has(key) || QUERY_PARAMETERS[key]
      ? {
          parameters: [
            ...params,
            ...(QUERY_PARAMETERS[key] ?? []).map((q) => ({ ...q, in: 'query', required: false })),
            ...(NEEDS_IF_MATCH.has(key) ? [{ name: 'If-Match', in: 'header', required: true, schema: { type: 'string' }, description: 'The ETag of the version read' }] : []),
          ],
        }
      : {}),
    ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: body } } } } : {}),
    responses: {
      200: { description: 'Done', content: { 'application/json': { schema: { type: 'object' } } } },
      ...(body ? { 400: problem('A field is wrong (named in `field`)') } : {}),
      401: problem('No valid bearer token, or a sign-in below level high (WWW-Authenticate says which)'),
      403: problem('The caller lacks the permission, or tries to change their own roles'),
      ...(r.path.includes('{') ? { 404: problem('No such record') } : {}),
      ...(r.method === 'POST' ? { 409: problem('The record is not in a state that allows this') } : {}),
      ...(NEEDS_IF_MATCH.has(key)
        ? { 412: problem('Someone else changed the record since that version (NIXA-CNF-001)'), 428: problem('If-Match is missing') }
        : {}),
    },
    security: [{ operator: [] }, { machine: [] }],
  };
}

export function openApiDocument(issuer: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) (paths[r.path] ??= {})[r.method.toLowerCase()] = operation(r);
  return {
    openapi: '3.1.0',
    info: {
      title: 'nixa admin API',
      version: '1',
      description:
        'Operators (nixa accounts with roles, signed in at level high) and machine clients (client_credentials with admin:* scopes). ' +
        `Roles: ${ROLES.map((r) => `${r} (${ROLE_PERMISSIONS[r].join(', ')})`).join('; ')}.`,
    },
    servers: [{ url: `${issuer}${ADMIN_API_PREFIX}` }],
    paths,
    components: {
      schemas: { Error: error },
      securitySchemes: {
        operator: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: `An access token nixa issued for resource ${issuer}/admin/api at level high` },
        machine: {
          type: 'oauth2',
          flows: { clientCredentials: { tokenUrl: `${issuer}/token`, scopes: Object.fromEntries(PERMISSIONS.filter((p) => p !== 'operators:write').map((p) => [`admin:${p}`, p])) } },
        },
      },
    },
  };
}
