import { describe, expect, it } from 'vitest'
import { csvCell, csvLine } from './csv.ts'

describe('report CSV', () => {
  it('quotes what needs quoting and doubles quotes', () => {
    expect(csvCell('plain')).toBe('plain')
    expect(csvCell('a, b')).toBe('"a, b"')
    expect(csvCell('say "hi"')).toBe('"say ""hi"""')
    expect(csvCell('two\nlines')).toBe('"two\nlines"')
    expect(csvCell(null)).toBe('')
    expect(csvCell(72.5)).toBe('72.5')
    expect(csvLine(['a', null, 1])).toBe('a,,1\r\n')
  })

  it('never lets a cell start a spreadsheet formula', () => {
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`)
    expect(csvCell('+1')).toBe("'+1")
    expect(csvCell('-2')).toBe("'-2")
    expect(csvCell('@sum')).toBe("'@sum")
    expect(csvCell(-2)).toBe('-2')
  })
})
