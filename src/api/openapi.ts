// The OpenAPI 3.1 document of the REST API, generated from the zod schemas
// that validate requests (schemas.ts), so the served contract is the code's.
import { z } from 'zod';
import { MAX_BODY_BYTES } from './http-helpers.ts';
import { apiSchemas, eventsQuery, listRunsQuery } from './schemas.ts';
import { API_BASE } from './serialize.ts';

type JsonObject = Record<string, unknown>;

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (schema: JsonObject) => ({ 'application/json': { schema } });

function componentSchemas(): Record<string, JsonObject> {
  const generated = z.toJSONSchema(apiSchemas, {
    target: 'draft-2020-12',
    uri: (id) => `#/components/schemas/${id}`,
    unrepresentable: 'any',
  }) as { schemas: Record<string, JsonObject> };
  const schemas: Record<string, JsonObject> = {};
  for (const [id, schema] of Object.entries(generated.schemas)) {
    const { $schema: _schema, $id: _id, ...rest } = schema;
    schemas[id] = rest;
  }
  return schemas;
}

function queryParameters(schema: z.ZodObject): JsonObject[] {
  const generated = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, JsonObject>;
    required?: string[];
  };
  return Object.entries(generated.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: 'query',
      required: generated.required?.includes(name) ?? false,
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });
const conflictResponse = (description: string) => ({ description, content: json(ref('RunConflict')) });

/** Every endpoint that reads a body refuses one over MAX_BODY_BYTES (and closes the connection). */
const TOO_LARGE = errorResponse(`The request body exceeds ${MAX_BODY_BYTES} bytes (code body_too_large)`);

const COMMON_ERRORS = {
  '401': errorResponse('No or wrong credentials'),
  '503': errorResponse('The API is disabled: SPECKIT_API_TOKEN is not set'),
};

const runIdParameter = {
  name: 'runId',
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
};

let cached: JsonObject | null = null;

export function buildOpenApiDocument(): JsonObject {
  if (cached) return cached;
  cached = {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'speckit-bot REST API',
      version: '1.0.0',
      description:
        'Watch, start, retry and cancel Spec Kit runs. Authenticate with `Authorization: Bearer <SPECKIT_API_TOKEN>` ' +
        'or with the session cookie from `POST /session`. BIGINT fields (GitHub ids, sizes) are JSON integers.',
    },
    security: [{ bearerAuth: [] }, { sessionCookie: [] }],
    paths: {
      [`${API_BASE}/session`]: {
        post: {
          operationId: 'createSession',
          summary: 'Exchange the API token for an HttpOnly, SameSite=Strict session cookie',
          security: [],
          requestBody: { required: true, content: json(ref('SessionRequest')) },
          responses: {
            '200': {
              description: 'Signed in; the cookie is set',
              headers: { 'Set-Cookie': { schema: { type: 'string' } } },
              content: json(ref('Session')),
            },
            '400': errorResponse('Invalid body'),
            '413': TOO_LARGE,
            ...COMMON_ERRORS,
          },
        },
        get: {
          operationId: 'getSession',
          summary: 'Whether the request is authenticated',
          security: [],
          responses: {
            '200': { description: 'The session state', content: json(ref('Session')) },
            '503': COMMON_ERRORS['503'],
          },
        },
        delete: {
          operationId: 'deleteSession',
          summary: 'Sign out (clears the cookie)',
          security: [],
          responses: { '204': { description: 'Signed out' } },
        },
      },
      [`${API_BASE}/runs`]: {
        get: {
          operationId: 'listRuns',
          summary: 'List runs, newest first',
          parameters: queryParameters(listRunsQuery),
          responses: {
            '200': { description: 'A page of runs', content: json(ref('SpecWorkflowRunList')) },
            '400': errorResponse('Invalid query'),
            ...COMMON_ERRORS,
          },
        },
        post: {
          operationId: 'createRun',
          summary: 'Start a run for the next phase of a feature (createdBy = api)',
          requestBody: { required: true, content: json(ref('CreateRunRequest')) },
          responses: {
            '202': { description: 'The run was created and queued', content: json(ref('RunAccepted')) },
            '400': errorResponse('Invalid body'),
            '413': TOO_LARGE,
            '404': errorResponse('The GitHub App is not installed on that repository'),
            '409': conflictResponse('A run for that feature is already active (it is returned)'),
            '429': errorResponse(
              "An installation limit is reached: the repository's .github/speckit.yml (limits.max_active_runs, limits.max_runs_per_day) or the server's SPECKIT_MAX_ACTIVE_RUNS; details.field names it",
            ),
            ...COMMON_ERRORS,
          },
        },
      },
      [`${API_BASE}/runs/{runId}`]: {
        get: {
          operationId: 'getRun',
          summary: 'A run with every step attempt and artifact',
          parameters: [runIdParameter],
          responses: {
            '200': { description: 'The run', content: json(ref('SpecWorkflowRunDetail')) },
            '400': errorResponse('The run id is not a uuid'),
            '404': errorResponse('No such run'),
            ...COMMON_ERRORS,
          },
        },
      },
      [`${API_BASE}/runs/{runId}/retry`]: {
        post: {
          operationId: 'retryRun',
          summary: 'Resume a failed run from the step that failed',
          parameters: [runIdParameter],
          requestBody: { required: false, content: json(ref('RetryRunRequest')) },
          responses: {
            '202': { description: 'The run resumes', content: json(ref('RunAccepted')) },
            '400': errorResponse('Invalid body or run id'),
            '413': TOO_LARGE,
            '404': errorResponse('No such run'),
            '409': conflictResponse('The run has not failed'),
            ...COMMON_ERRORS,
          },
        },
      },
      [`${API_BASE}/runs/{runId}/cancel`]: {
        post: {
          operationId: 'cancelRun',
          summary: 'Cancel an active run (it finalizes as cancelled)',
          parameters: [runIdParameter],
          requestBody: { required: false, content: json(ref('CancelRunRequest')) },
          responses: {
            '202': { description: 'The run is cancelling', content: json(ref('RunAccepted')) },
            '400': errorResponse('Invalid body or run id'),
            '413': TOO_LARGE,
            '404': errorResponse('No such run'),
            '409': conflictResponse('The run has already finished'),
            ...COMMON_ERRORS,
          },
        },
      },
      [`${API_BASE}/runs/{runId}/codex-activity`]: {
        get: {
          operationId: 'getCodexActivity',
          summary: "What Codex did in this run's attempts, from its codex.jsonl logs",
          parameters: [runIdParameter],
          responses: {
            '200': { description: 'Completed Codex items in order', content: json(ref('CodexActivityList')) },
            '400': errorResponse('The run id is not a uuid'),
            '404': errorResponse('No such run'),
            ...COMMON_ERRORS,
          },
        },
      },
      [`${API_BASE}/runs/{runId}/artifacts/{artifactId}`]: {
        get: {
          operationId: 'downloadArtifact',
          summary: 'Download an artifact file (only files inside ARTIFACTS_DIR are served)',
          parameters: [
            runIdParameter,
            { name: 'artifactId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
          ],
          responses: {
            '200': {
              description: 'The file',
              content: {
                'application/octet-stream': {
                  schema: { type: 'string', contentMediaType: 'application/octet-stream' },
                },
              },
            },
            '400': errorResponse('An id is not a uuid'),
            '403': errorResponse('The stored path lies outside the artifact root'),
            '404': errorResponse('No such artifact, or its file is gone'),
            ...COMMON_ERRORS,
          },
        },
      },
      [`${API_BASE}/events`]: {
        get: {
          operationId: 'streamEvents',
          summary: 'Server-Sent Events of run, step and artifact changes (LISTEN/NOTIFY)',
          description:
            'Events `run`, `task` and `artifact` carry a JSON object with `runId`; `resync` means changes may have been ' +
            'missed (reload). Comment lines are heartbeats.',
          parameters: queryParameters(eventsQuery),
          responses: {
            '200': {
              description: 'An event stream',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            '400': errorResponse('Invalid query'),
            ...COMMON_ERRORS,
          },
        },
      },
      '/api/openapi.json': {
        get: {
          operationId: 'getOpenApi',
          summary: 'This document',
          security: [],
          responses: { '200': { description: 'The OpenAPI document', content: json({ type: 'object' }) } },
        },
      },
    },
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'SPECKIT_API_TOKEN' },
        sessionCookie: { type: 'apiKey', in: 'cookie', name: 'speckit_session' },
      },
    },
  };
  return cached;
}
