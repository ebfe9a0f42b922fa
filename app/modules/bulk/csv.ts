// CSV for the bulk run report (RFC 4180: comma separated, CRLF), opened by
// spreadsheet programs. Product titles and error text are the merchant's or
// an importer's, so every cell is neutralised the way OWASP's CSV Injection
// page asks: quoted, quotes doubled, and a would-be formula made text.

/** A UTF-8 byte order mark: without it Excel reads UTF-8 (Chinese titles) as a legacy code page. */
export const CSV_BOM = '\uFEFF'

// why the leading run: spreadsheets drop leading blanks and quotes before
// deciding a cell is a formula, so " =1+2" and "'=1+2" are formulas too.
// Full-width ＝＋－＠ are included: East Asian input turns them into formulas.
const FORMULA_START = /^[\s"'\u0000]*[=+\-@\t\r\n\u0000\uFF1D\uFF0B\uFF0D\uFF20]/u

/**
 * One cell: always quoted (so a comma, semicolon, quote or line break inside
 * never starts a new cell), inner quotes doubled, and a text that a
 * spreadsheet would evaluate prefixed with a single quote.
 */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '""'
  // why numbers pass: they are ours (scores), and a prefixed number is no longer a number.
  let text = typeof value === 'number' ? String(value) : value
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`
  return `"${text.replace(/"/g, '""')}"`
}

export function csvLine(cells: (string | number | null | undefined)[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`
}
