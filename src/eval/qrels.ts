/**
 * Relevance judgments (qrels): query id, item id, relevance. Formats: TREC (`qid 0 docid rel`,
 * whitespace-separated, no header; `.qrels`/`.txt` or `format: 'trec'`), and CSV, TSV or JSONL
 * read with the project's readers (a header, or JSON keys, naming the columns).
 *
 * Relevance is a number >= 0 used as the gain, or a label mapped through a gain map (ESCI by
 * default: Exact 1, Substitute 0.1, Complement 0.01, Irrelevant 0). Duplicates: a (query, item)
 * pair judged again with the same gain is counted in `duplicates` and ignored; with another gain
 * it is a DataError naming both lines.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { openSource } from '../data/readers/index.js';
import { DataError, oneLine, UsageError } from '../lib/errors.js';
import { GainMap } from './gains.js';

export type QrelsFormat = 'auto' | 'trec' | 'csv' | 'tsv' | 'jsonl';

export interface QrelsOptions {
  format?: QrelsFormat;
  /** Column names (CSV/TSV/JSONL); unset: the first present of the names in QREL_COLUMNS. */
  queryColumn?: string;
  itemColumn?: string;
  relevanceColumn?: string;
  /** Maps label relevance values to gains; default ESCI. */
  gains?: GainMap;
}

export interface Qrels {
  file: string;
  /** query id → item id → gain. */
  judgments: Map<string, Map<string, number>>;
  count: number;
  duplicates: number;
}

export const QREL_COLUMNS = {
  query: ['query_id', 'qid', 'query-id', 'queryid'],
  item: ['item_id', 'product_id', 'doc_id', 'docid', 'corpus-id', 'corpus_id', 'iid'],
  relevance: ['relevance', 'rel', 'gain', 'grade', 'score', 'label', 'esci_label'],
} as const;

const TREC_EXTENSIONS = new Set(['.qrels', '.txt', '.trec', '']);

function formatOf(file: string, format: QrelsFormat): QrelsFormat {
  if (format !== 'auto') return format;
  const base = file.slice(file.lastIndexOf('/') + 1);
  const ext = base.includes('.') ? base.slice(base.lastIndexOf('.')).toLowerCase() : '';
  return TREC_EXTENSIONS.has(ext) ? 'trec' : 'auto';
}

class QrelsBuilder {
  readonly judgments = new Map<string, Map<string, number>>();
  private readonly lines = new Map<string, Map<string, number>>();
  count = 0;
  duplicates = 0;

  constructor(
    private readonly file: string,
    private readonly gains: GainMap,
  ) {}

  gainOf(value: unknown, line: number): number {
    const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : undefined;
    if (text === undefined || text === '') this.fail(line, `relevance is ${text === '' ? 'empty' : typeof value}`);
    const asNumber = Number(text);
    const gain = /^[-+]?(\d|\.\d)/.test(text) ? asNumber : this.gains.gainOf(text);
    if (gain === undefined) {
      this.fail(line, `relevance "${text}" is neither a number nor a label of the gains map (${this.gains})`);
    }
    if (!Number.isFinite(gain)) this.fail(line, `relevance "${text}" is not a number`);
    if (gain < 0)
      this.fail(line, `relevance ${text} is negative; gains must be >= 0 (as sklearn's ndcg_score requires)`);
    return gain;
  }

  add(query: unknown, item: unknown, relevance: unknown, line: number): void {
    const q = this.id(query, 'query id', line);
    const i = this.id(item, 'item id', line);
    const gain = this.gainOf(relevance, line);
    let items = this.judgments.get(q);
    let lines = this.lines.get(q);
    if (!items || !lines) {
      items = new Map();
      lines = new Map();
      this.judgments.set(q, items);
      this.lines.set(q, lines);
    }
    const before = items.get(i);
    if (before !== undefined) {
      if (before !== gain) {
        this.fail(line, `query "${q}" item "${i}" judged ${gain} here and ${before} at line ${lines.get(i)}`);
      }
      this.duplicates++;
      return;
    }
    items.set(i, gain);
    lines.set(i, line);
    this.count++;
  }

  private id(value: unknown, what: string, line: number): string {
    const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
    if (typeof text !== 'string' || text.trim() === '') {
      this.fail(line, `${what} is ${text === undefined || text === null ? 'missing' : 'empty or not text'}`);
    }
    return text.trim();
  }

  fail(line: number, what: string): never {
    throw new DataError(oneLine(`${this.file}:${line}: ${what}`));
  }

  done(): Qrels {
    if (this.count === 0) throw new DataError(`${this.file}: no judgments (expected query id, item id, relevance)`);
    return { file: this.file, judgments: this.judgments, count: this.count, duplicates: this.duplicates };
  }
}

async function readTrec(file: string, b: QrelsBuilder): Promise<void> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const text of lines) {
    n++;
    const fields = text
      .replace(/^\ufeff/, '')
      .trim()
      .split(/\s+/);
    if (fields.length === 1 && fields[0] === '') continue;
    if (fields.length !== 4) {
      b.fail(
        n,
        `expected 4 whitespace-separated fields (query_id iteration item_id relevance), found ${fields.length}`,
      );
    }
    b.add(fields[0], fields[2], fields[3], n);
  }
}

/** The column for `kind`: the one given (`queryColumn`, ...), else the first known name present. */
function pickColumn(file: string, columns: string[], given: string | undefined, kind: keyof typeof QREL_COLUMNS) {
  const flag = `${kind}Column`;
  const have = `columns are ${columns.join(', ')}`;
  if (given !== undefined) {
    if (!columns.includes(given)) throw new UsageError(`${file}: ${kind} column "${given}" not found; ${have}`);
    return given;
  }
  const found = QREL_COLUMNS[kind].find((c) => columns.includes(c));
  if (!found) {
    const known = QREL_COLUMNS[kind].join(', ');
    throw new UsageError(`${file}: no ${kind} column (looked for ${known}; name it with ${flag}); ${have}`);
  }
  return found;
}

async function readTable(file: string, format: QrelsFormat, opts: QrelsOptions, b: QrelsBuilder): Promise<void> {
  const source = openSource(file, format === 'auto' || format === 'trec' ? 'auto' : format);
  const columns = await source.columns();
  const query = pickColumn(file, columns, opts.queryColumn, 'query');
  const item = pickColumn(file, columns, opts.itemColumn, 'item');
  const relevance = pickColumn(file, columns, opts.relevanceColumn, 'relevance');
  for await (const row of source.rows()) {
    const line = row.line ?? row.row;
    if (row.error || !row.values) b.fail(line, row.error ?? 'unreadable row');
    b.add(row.values[query], row.values[item], row.values[relevance], line);
  }
}

export async function readQrels(file: string, opts: QrelsOptions = {}): Promise<Qrels> {
  if (!existsSync(file)) throw new UsageError(`${file}: qrels file not found`);
  if (!statSync(file).isFile()) throw new UsageError(`${file}: not a file`);
  if (statSync(file).size === 0) throw new DataError(`${file}: empty file`);
  const builder = new QrelsBuilder(file, opts.gains ?? GainMap.esci());
  const format = formatOf(file, opts.format ?? 'auto');
  if (format === 'trec') await readTrec(file, builder);
  else await readTable(file, format, opts, builder);
  return builder.done();
}

/**
 * One query's retrieved items judged against the qrels: gains in hit order (unjudged = 0), and the
 * gains of judged items that were not retrieved, for rankQuery/RankingAccumulator. `judged` is
 * false when the qrels know nothing about the query.
 */
export function judgeHits(
  qrels: Qrels,
  query: string,
  hits: readonly { id: string; score: number }[],
): { scores: number[]; gains: number[]; unretrievedGains: number[]; judged: boolean } {
  const judged = qrels.judgments.get(query);
  const retrieved = new Set(hits.map((h) => h.id));
  const unretrievedGains = judged ? [...judged].filter(([id]) => !retrieved.has(id)).map(([, g]) => g) : [];
  return {
    scores: hits.map((h) => h.score),
    gains: hits.map((h) => judged?.get(h.id) ?? 0),
    unretrievedGains,
    judged: judged !== undefined,
  };
}
