/**
 * JSON schemas of the request bodies. Unknown fields are refused (a request can only name a model
 * the service was started with, never a path); limits on items and characters are checked after
 * the schema so they can answer 413 with the configured limit.
 */

const text = { type: 'string' } as const;

const inputs = (pairs: boolean) =>
  ({
    type: 'array',
    minItems: 1,
    items: pairs
      ? {
          anyOf: [
            text,
            {
              type: 'object',
              additionalProperties: false,
              required: ['text'],
              properties: { text, pair: text },
            },
          ],
        }
      : text,
  }) as const;

export const classifySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['inputs'],
  properties: {
    inputs: inputs(true),
    top_k: { type: 'integer', minimum: 1 },
    logits: { type: 'boolean' },
  },
} as const;

export const embedSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['inputs'],
  properties: { inputs: inputs(false) },
} as const;

export const searchSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['inputs'],
  properties: { inputs: inputs(false), k: { type: 'integer', minimum: 1 } },
} as const;

export const adminReloadSchema = {
  anyOf: [
    { type: 'null' },
    {
      type: 'object',
      additionalProperties: false,
      properties: { models: { type: 'array', items: { type: 'string' }, minItems: 1 } },
    },
  ],
} as const;
