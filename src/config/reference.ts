import { configJsonSchema } from './json-schema.js';

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  anyOf?: JsonSchema[];
  const?: unknown;
  default?: unknown;
  description?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  minimum?: number;
  exclusiveMinimum?: number;
};

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => String(v)).join(' \\| ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.anyOf) return [...new Set(s.anyOf.map(typeOf))].join(' \\| ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'values'}`;
  if (s.type === 'object' && !s.properties) return 'map';
  if (s.type === 'integer' && (s.exclusiveMinimum === 0 || (s.minimum ?? -1) >= 1)) return 'integer > 0';
  if (s.type === 'integer' && s.minimum === 0) return 'integer ≥ 0';
  return Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
}

/** The config reference table in the README, generated from the schema so it cannot drift. */
export function configReferenceMarkdown(): string {
  const rows = ['| key | type | default | description |', '|---|---|---|---|'];
  const walk = (props: Record<string, JsonSchema>, prefix: string) => {
    for (const [key, s] of Object.entries(props)) {
      const dotted = prefix + key;
      if (s.properties) {
        walk(s.properties, `${dotted}.`);
        continue;
      }
      const def = s.default === undefined ? '' : `\`${JSON.stringify(s.default)}\``;
      rows.push(`| \`${dotted}\` | ${typeOf(s)} | ${def} | ${s.description ?? ''} |`);
    }
  };
  walk((configJsonSchema() as JsonSchema).properties ?? {}, '');
  return rows.join('\n');
}
