// A small JSON Schema (2020-12) validator for the subset the served OpenAPI
// document uses: $ref into #/components/schemas, type (incl. type arrays),
// properties, required, additionalProperties, items, enum, const, anyOf,
// oneOf, allOf, minimum/maximum, minLength/maxLength, pattern and the uuid and
// date-time formats. Unknown keywords fail loudly so that the check cannot
// silently pass a schema it does not understand.
type Schema = Record<string, unknown> | boolean;

const IGNORED = new Set([
  'description',
  'title',
  'default',
  'examples',
  '$schema',
  'contentMediaType',
  'deprecated',
]);
const HANDLED = new Set([
  '$ref',
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'anyOf',
  'oneOf',
  'allOf',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'format',
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

export function validateJson(
  document: Record<string, any>,
  schema: Schema,
  value: unknown,
  at = '$',
): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${at}: no value is allowed here`];
  const errors: string[] = [];
  for (const key of Object.keys(schema)) {
    if (!HANDLED.has(key) && !IGNORED.has(key))
      errors.push(`${at}: the validator does not know keyword ${key}`);
  }
  if (typeof schema.$ref === 'string') {
    const prefix = '#/components/schemas/';
    if (!schema.$ref.startsWith(prefix)) return [`${at}: unsupported $ref ${schema.$ref}`];
    const target = document.components?.schemas?.[schema.$ref.slice(prefix.length)];
    if (!target) return [`${at}: unresolved $ref ${schema.$ref}`];
    errors.push(...validateJson(document, target, value, at));
  }
  const actual = typeOf(value);
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    const ok = types.some((t) => t === actual || (t === 'number' && actual === 'integer'));
    if (!ok) return [...errors, `${at}: expected ${types.join('|')}, got ${actual}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => e === value)) {
    errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  }
  if ('const' in schema && schema.const !== value)
    errors.push(`${at}: expected ${JSON.stringify(schema.const)}`);
  if (actual === 'object') {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const name of (schema.required ?? []) as string[]) {
      if (!(name in object)) errors.push(`${at}: missing required property ${name}`);
    }
    for (const [name, property] of Object.entries(object)) {
      const propertySchema = properties[name];
      if (propertySchema !== undefined)
        errors.push(...validateJson(document, propertySchema, property, `${at}.${name}`));
      else if (schema.additionalProperties === false) errors.push(`${at}: unexpected property ${name}`);
      else if (typeof schema.additionalProperties === 'object')
        errors.push(
          ...validateJson(document, schema.additionalProperties as Schema, property, `${at}.${name}`),
        );
    }
  }
  if (actual === 'array' && schema.items !== undefined) {
    (value as unknown[]).forEach((item, index) => {
      errors.push(...validateJson(document, schema.items as Schema, item, `${at}[${index}]`));
    });
  }
  if (actual === 'string') {
    const text = value as string;
    if (typeof schema.minLength === 'number' && text.length < schema.minLength)
      errors.push(`${at}: too short`);
    if (typeof schema.maxLength === 'number' && text.length > schema.maxLength)
      errors.push(`${at}: too long`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(text))
      errors.push(`${at}: ${JSON.stringify(text)} does not match ${schema.pattern}`);
    if (
      schema.format === 'uuid' &&
      !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text)
    )
      errors.push(`${at}: not a uuid`);
    if (schema.format === 'date-time' && Number.isNaN(Date.parse(text)))
      errors.push(`${at}: not a date-time`);
  }
  if (actual === 'integer' || actual === 'number') {
    const n = value as number;
    if (typeof schema.minimum === 'number' && n < schema.minimum)
      errors.push(`${at}: below ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && n > schema.maximum)
      errors.push(`${at}: above ${schema.maximum}`);
    if (typeof schema.exclusiveMinimum === 'number' && n <= schema.exclusiveMinimum)
      errors.push(`${at}: too small`);
    if (typeof schema.exclusiveMaximum === 'number' && n >= schema.exclusiveMaximum)
      errors.push(`${at}: too large`);
  }
  if (Array.isArray(schema.allOf))
    for (const s of schema.allOf) errors.push(...validateJson(document, s, value, at));
  if (Array.isArray(schema.anyOf)) {
    const results = schema.anyOf.map((s: Schema) => validateJson(document, s, value, at));
    if (!results.some((r) => r.length === 0))
      errors.push(`${at}: matches no anyOf branch (${results.flat().join('; ')})`);
  }
  if (Array.isArray(schema.oneOf)) {
    const matching = schema.oneOf.filter((s: Schema) => validateJson(document, s, value, at).length === 0);
    if (matching.length !== 1) errors.push(`${at}: matches ${matching.length} oneOf branches, expected 1`);
  }
  return errors;
}

/**
 * Checks a response against the served document: the status must be documented
 * for the operation, and a JSON body must validate against its schema.
 */
export function validateResponse(
  document: Record<string, any>,
  method: string,
  pathTemplate: string,
  status: number,
  contentType: string | null,
  body: unknown,
): string[] {
  const operation = document.paths?.[pathTemplate]?.[method.toLowerCase()];
  if (!operation) return [`${method} ${pathTemplate} is not in the OpenAPI document`];
  const response = operation.responses?.[String(status)];
  if (!response) return [`${method} ${pathTemplate} does not document status ${status}`];
  if (!response.content) return body === undefined || body === null || body === '' ? [] : ['unexpected body'];
  const mediaType = (contentType ?? '').split(';')[0]!.trim();
  const media = response.content[mediaType];
  if (!media) return [`${method} ${pathTemplate} ${status} does not document ${mediaType}`];
  if (mediaType !== 'application/json') return [];
  return validateJson(document, media.schema, body);
}
