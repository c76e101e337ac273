import { z } from 'zod';
import { configSchema } from './schema.js';

/** JSON Schema of the config file (input side: every key optional where it has a default). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'recsys configuration',
  };
}
