/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for tests: every line must be
 * a HELP, a TYPE or a sample of a declared family, label values properly quoted and escaped,
 * values numbers, histogram buckets cumulative with +Inf equal to _count. Anything else throws.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const SUFFIXES: Record<Family['type'], string[]> = {
  counter: ['', '_total', '_created'],
  gauge: [''],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  summary: ['', '_sum', '_count', '_created'],
  untyped: [''],
};

function parseValue(s: string, line: number): number {
  if (s === '+Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  if (s === 'NaN') return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`line ${line}: bad value "${s}"`);
  return Number(s);
}

function parseLabels(s: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  while (s[i] !== '}') {
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error(`line ${line}: label without "="`);
    const key = s.slice(i, eq);
    if (!LABEL.test(key)) throw new Error(`line ${line}: bad label name "${key}"`);
    if (key in labels) throw new Error(`line ${line}: label "${key}" twice`);
    if (s[eq + 1] !== '"') throw new Error(`line ${line}: label value not quoted`);
    let j = eq + 2;
    let v = '';
    for (; j < s.length && s[j] !== '"'; j++) {
      if (s[j] === '\\') {
        const c = s[++j];
        if (c === 'n') v += '\n';
        else if (c === '\\' || c === '"') v += c;
        else throw new Error(`line ${line}: bad escape "\\${c}"`);
      } else v += s[j];
    }
    if (j >= s.length) throw new Error(`line ${line}: unterminated label value`);
    labels[key] = v;
    i = j + 1;
    if (s[i] === ',') i++;
    else if (s[i] !== '}') throw new Error(`line ${line}: expected "," or "}" after a label`);
  }
  return { labels, rest: s.slice(i + 1) };
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const familyOf = (sample: string): Family | undefined => {
    for (const f of families.values()) if (SUFFIXES[f.type].some((x) => f.name + x === sample)) return f;
    return undefined;
  };
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  text
    .slice(0, -1)
    .split('\n')
    .forEach((raw, idx) => {
      const line = idx + 1;
      if (raw === '') return;
      const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (meta) {
        const [, kind, name, rest] = meta;
        if (!NAME.test(name)) throw new Error(`line ${line}: bad metric name "${name}"`);
        const f = families.get(name) ?? { name, type: 'untyped', help: '', samples: [] };
        if (kind === 'TYPE') {
          if (!(rest in SUFFIXES)) throw new Error(`line ${line}: unknown type "${rest}"`);
          if (f.samples.length) throw new Error(`line ${line}: TYPE after samples of ${name}`);
          f.type = rest as Family['type'];
        } else f.help = rest;
        families.set(name, f);
        return;
      }
      if (raw.startsWith('#')) return;
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(.*)$/.exec(raw);
      if (!m) throw new Error(`line ${line}: not a sample: ${raw}`);
      const [, name, tail] = m;
      const { labels, rest } = tail.startsWith('{') ? parseLabels(tail, line) : { labels: {}, rest: tail };
      const parts = rest.trim().split(' ');
      if (!rest.startsWith(' ') || parts.length < 1 || parts.length > 2)
        throw new Error(`line ${line}: expected "name{labels} value [timestamp]"`);
      const f = familyOf(name);
      if (!f) throw new Error(`line ${line}: sample ${name} of no declared family`);
      f.samples.push({ name, labels, value: parseValue(parts[0], line) });
    });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const series = new Map<string, Sample[]>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(rest);
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}: bucket without le`);
      series.set(key, [...(series.get(key) ?? []), s]);
    }
  }
  for (const [key, buckets] of series) {
    let prev = -1;
    let prevCount = 0;
    for (const b of buckets) {
      const le = parseValue(b.labels.le, 0);
      if (le <= prev) throw new Error(`${f.name}${key}: buckets not in increasing le order`);
      if (b.value < prevCount) throw new Error(`${f.name}${key}: bucket counts are not cumulative`);
      prev = le;
      prevCount = b.value;
    }
    if (buckets.at(-1)?.labels.le !== '+Inf') throw new Error(`${f.name}${key}: no +Inf bucket`);
    const count = f.samples.find((s) => s.name === `${f.name}_count` && JSON.stringify(s.labels) === key);
    if (!count || count.value !== prevCount) throw new Error(`${f.name}${key}: _count differs from the +Inf bucket`);
  }
}

/** The value of one sample whose labels include `labels`. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}) {
  for (const f of families.values())
    for (const s of f.samples)
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
  return undefined;
}
