/** One record from an input file, or the reason it could not be read. */
export interface SourceRow {
  /** 1-based data row number (header excluded): the "row" users see in rejects and predictions. */
  row: number;
  /** 1-based line in the file where the record ends (CSV/JSONL), for error messages. */
  line?: number;
  values?: Record<string, unknown>;
  error?: string;
  /** A short excerpt of the raw record (every row, so any row rejected later can be quoted in the rejects file). */
  raw?: string;
}

export interface RowSource {
  /** Column names (CSV header, Arrow schema, or keys of the first JSONL object). */
  columns(): Promise<string[]>;
  rows(): AsyncIterable<SourceRow>;
}

export type InputFormat = 'csv' | 'tsv' | 'jsonl' | 'arrow';
