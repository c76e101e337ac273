/**
 * A tiny RFC 4180 CSV writer: a field is quoted when it holds a comma, a double quote, CR or LF
 * (or starts/ends with a space), and quotes inside are doubled. Rows end with "\n"; a newline
 * inside a quoted field is kept as is.
 */

export type Cell = string | number;

export function csvField(value: Cell): string {
  const s = String(value);
  if (/[",\r\n]/.test(s) || s !== s.trim()) return `"${s.replace(/"/g, '""')}"`;
  return s;
}

export function csvRow(cells: readonly Cell[]): string {
  return `${cells.map(csvField).join(',')}\n`;
}

/** Header plus rows; each row's cells in the order of `columns`. */
export function toCsv<T extends Record<string, Cell>>(
  columns: readonly (keyof T & string)[],
  rows: readonly T[],
): string {
  let out = csvRow(columns);
  for (const row of rows) out += csvRow(columns.map((c) => row[c]));
  return out;
}
