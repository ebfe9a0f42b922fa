// CSV for the bulk run report (RFC 4180: comma separated, CRLF, quotes
// doubled), opened by spreadsheet programs.

/** A UTF-8 byte order mark: without it Excel reads UTF-8 (Chinese titles) as a legacy code page. */
export const CSV_BOM = '\uFEFF'

// why: a cell that starts with one of these is a formula to Excel and
// LibreOffice; product titles are the merchant's (or an importer's) text.
const FORMULA_START = /^[=+\-@\t\r]/

export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return ''
  let text = typeof value === 'number' ? String(value) : value
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function csvLine(cells: (string | number | null | undefined)[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`
}
