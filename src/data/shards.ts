import { Field, Float32, Int8, Int32, Int64, List, makeData, Schema, Utf8 } from 'apache-arrow';
import { ArrowFileWriter, listColumn, stringColumn } from './arrow-file-writer.js';

/** One tokenized example as it goes into a shard. */
export interface Example {
  ids: ArrayLike<number>;
  typeIds: ArrayLike<number>;
  label: number;
  row: number;
  id?: string;
  /** The group key (data.group_column, e.g. the query of a query–product pair): eval ranks within it. */
  group?: string;
  /** Regression / multi-label: the head's target vector (a `targets` column, List<Float32>). */
  targets?: ArrayLike<number>;
}

export const SHARD_COLUMNS = ['input_ids', 'token_type_ids', 'label', 'length', 'row'] as const;

const BATCH_ROWS = 4096;

/** One shard of a prepared dataset: SHARD_COLUMNS, then the optional id, group and targets columns. */
export class ShardWriter extends ArrowFileWriter<Example> {
  constructor(
    file: string,
    withId: boolean,
    withGroup = false,
    withTargets = false,
    /** Rows per record batch: the unit a random-access reader (pretraining corpus) decodes at once. */
    batchRows = BATCH_ROWS,
  ) {
    const fields: Field[] = [
      new Field('input_ids', new List(new Field('item', new Int32(), false)), false),
      new Field('token_type_ids', new List(new Field('item', new Int8(), false)), false),
      new Field('label', new Int32(), false),
      new Field('length', new Int32(), false),
      new Field('row', new Int64(), false),
    ];
    if (withId) fields.push(new Field('id', new Utf8(), true));
    if (withGroup) fields.push(new Field('group', new Utf8(), true));
    if (withTargets) fields.push(new Field('targets', new List(new Field('item', new Float32(), false)), false));
    super(file, new Schema(fields), (rows) => shardColumns(rows, { withId, withGroup, withTargets }), batchRows);
  }
}

function shardColumns(rows: Example[], has: { withId: boolean; withGroup: boolean; withTargets: boolean }): unknown[] {
  const n = rows.length;
  const columns: unknown[] = [
    listColumn(
      new Int32(),
      rows.map((r) => r.ids),
      Int32Array,
    ),
    listColumn(
      new Int8(),
      rows.map((r) => r.typeIds),
      Int8Array,
    ),
    makeData({ type: new Int32(), length: n, nullCount: 0, data: Int32Array.from(rows, (r) => r.label) }),
    makeData({ type: new Int32(), length: n, nullCount: 0, data: Int32Array.from(rows, (r) => r.ids.length) }),
    makeData({ type: new Int64(), length: n, nullCount: 0, data: BigInt64Array.from(rows, (r) => BigInt(r.row)) }),
  ];
  // The optional columns in the schema's order: id, group, targets.
  if (has.withId) columns.push(stringColumn(rows.map((r) => r.id)));
  if (has.withGroup) columns.push(stringColumn(rows.map((r) => r.group)));
  if (has.withTargets)
    columns.push(
      listColumn(
        new Float32(),
        rows.map((r) => r.targets ?? []),
        Float32Array,
      ),
    );
  return columns;
}
