import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGains } from '../../src/eval/gains.js';
import { judgeHits, type QrelsOptions, readQrels } from '../../src/eval/qrels.js';
import { rankQuery } from '../../src/eval/ranking.js';
import { DataError, UsageError } from '../../src/lib/errors.js';
import { tempDir } from '../helpers/cli.js';

const dir = tempDir('recsys-qrels-');
function file(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}
const asObject = (m: Map<string, Map<string, number>>) =>
  Object.fromEntries([...m].map(([q, items]) => [q, Object.fromEntries(items)]));

async function fails(f: string, opts: QrelsOptions, kind: typeof DataError | typeof UsageError, message: string) {
  const err = await readQrels(f, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(kind);
  expect((err as Error).message).toBe(message);
}

describe('readQrels', () => {
  it('reads TREC qrels (qid 0 docid rel), skipping blank lines', async () => {
    const f = file('a.qrels', 'q1 0 d1 2\r\nq1\t0\td2 0\n\n  q2 Q0 d1   1  \n');
    const q = await readQrels(f);
    expect(asObject(q.judgments)).toEqual({ q1: { d1: 2, d2: 0 }, q2: { d1: 1 } });
    expect(q).toMatchObject({ count: 3, duplicates: 0 });
  });

  it('reads CSV with ESCI labels, BEIR-style TSV, and JSONL with numbers', async () => {
    const csv = file('a.csv', 'query_id,product_id,esci_label\nq1,p1,Exact\nq1,p2,substitute\nq2,p1,I\n');
    expect(asObject((await readQrels(csv)).judgments)).toEqual({ q1: { p1: 1, p2: 0.1 }, q2: { p1: 0 } });
    const tsv = file('b.tsv', 'query-id\tcorpus-id\tscore\n7\tdoc9\t1\n');
    expect(asObject((await readQrels(tsv)).judgments)).toEqual({ 7: { doc9: 1 } });
    const jsonl = file(
      'c.jsonl',
      '{"qid": 3, "item_id": "x", "rel": 2}\n\n{"qid": "3", "item_id": "y", "rel": "0.5"}\n',
    );
    expect(asObject((await readQrels(jsonl)).judgments)).toEqual({ 3: { x: 2, y: 0.5 } });
    const named = file('d.csv', 'a,b,c\nq,i,good\n');
    const opts = { queryColumn: 'a', itemColumn: 'b', relevanceColumn: 'c', gains: parseGains('good=3,bad=0') };
    expect(asObject((await readQrels(named, opts)).judgments)).toEqual({ q: { i: 3 } });
  });

  it('counts a repeated judgment with the same relevance, refuses one with another', async () => {
    const same = file('dup.qrels', 'q 0 d 1\nq 0 d 1\n');
    expect(await readQrels(same)).toMatchObject({ count: 1, duplicates: 1 });
    const f = file('conflict.qrels', 'q 0 d 1\nq 0 e 0\nq 0 d 2\n');
    await fails(f, {}, DataError, `${f}:3: query "q" item "d" judged 2 here and 1 at line 1`);
  });

  it('names the file, line and problem of a bad TREC line', async () => {
    const f = file('bad.qrels', 'q1 0 d1 1\nq1 0 d2\n');
    await fails(
      f,
      {},
      DataError,
      `${f}:2: expected 4 whitespace-separated fields (query_id iteration item_id relevance), found 3`,
    );
    const neg = file('neg.qrels', 'q1 0 d1 -1\n');
    await fails(
      neg,
      {},
      DataError,
      `${neg}:1: relevance -1 is negative; gains must be >= 0 (as sklearn's ndcg_score requires)`,
    );
    const nan = file('nan.qrels', 'q1 0 d1 1x\n');
    await fails(nan, {}, DataError, `${nan}:1: relevance "1x" is not a number`);
  });

  it('names the file, line and problem of a bad CSV/JSONL row', async () => {
    const label = file('label.csv', 'qid,docid,label\nq,d,Exact\nq,e,Great\n');
    await fails(
      label,
      {},
      DataError,
      `${label}:3: relevance "Great" is neither a number nor a label of the gains map ` +
        '(Exact=1, Substitute=0.1, Complement=0.01, Irrelevant=0, E=1, S=0.1, C=0.01, I=0)',
    );
    const empty = file('empty-id.csv', 'qid,docid,rel\nq,d,1\n,e,1\n');
    await fails(empty, {}, DataError, `${empty}:3: query id is empty or not text`);
    const blank = file('blank-rel.csv', 'qid,docid,rel\nq,d,\n');
    await fails(blank, {}, DataError, `${blank}:2: relevance is empty`);
    const cols = file('cols.csv', 'qid,docid,rel\nq,d\n');
    await fails(cols, {}, DataError, `${cols}:2: expected 3 columns, found 2`);
    const json = file('bad.jsonl', '{"qid": "q", "docid": "d", "rel": 1}\n{"qid": \n');
    const err = await readQrels(json).catch((e: Error) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(
      new RegExp(`^${json.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: not valid JSON`),
    );
    const missing = file('missing.jsonl', '{"qid": "q", "docid": "d", "rel": 1}\n{"qid": "q", "rel": 1}\n');
    await fails(missing, {}, DataError, `${missing}:2: item id is missing`);
  });

  it('says which columns exist when one is missing, and refuses empty or absent files', async () => {
    const f = file('nocol.csv', 'query,product,rel\nq,d,1\n');
    await fails(
      f,
      {},
      UsageError,
      `${f}: no query column (looked for query_id, qid, query-id, queryid; name it with queryColumn); ` +
        'columns are query, product, rel',
    );
    const g = file('given.csv', 'qid,docid,rel\nq,d,1\n');
    await fails(
      g,
      { relevanceColumn: 'grade' },
      UsageError,
      `${g}: relevance column "grade" not found; columns are qid, docid, rel`,
    );
    const empty = file('empty.qrels', '');
    await fails(empty, {}, DataError, `${empty}: empty file`);
    const blank = file('blank.qrels', '\n\n');
    await fails(blank, {}, DataError, `${blank}: no judgments (expected query id, item id, relevance)`);
    const absent = path.join(dir, 'absent.qrels');
    await fails(absent, {}, UsageError, `${absent}: qrels file not found`);
  });
});

describe('judgeHits', () => {
  it('gives hits their gains (unjudged 0) and keeps unretrieved judgments for the ideal and recall', async () => {
    const q = await readQrels(file('j.qrels', 'q 0 a 2\nq 0 b 0\nq 0 c 1\n'));
    const judged = judgeHits(q, 'q', [
      { id: 'x', score: 0.9 },
      { id: 'a', score: 0.8 },
      { id: 'b', score: 0.1 },
    ]);
    expect(judged).toEqual({ scores: [0.9, 0.8, 0.1], gains: [0, 2, 0], unretrievedGains: [1], judged: true });
    expect(rankQuery(judged, { k: [3] }).values['recall@3']).toBe(0.5);
    expect(judgeHits(q, 'other', [{ id: 'a', score: 1 }])).toEqual({
      scores: [1],
      gains: [0],
      unretrievedGains: [],
      judged: false,
    });
  });
});
