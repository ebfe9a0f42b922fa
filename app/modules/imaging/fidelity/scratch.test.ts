import { describe, expect, it } from 'vitest'
import { f32, f64, u8 } from './scratch.ts'

describe('scratch planes', () => {
  it('hands the same plane back for the same key and length, zeroed unless told not to', () => {
    const a = f32('test.same', 8)
    a.fill(3)
    const kept = f32('test.same', 8, false)
    expect(kept).toBe(a)
    expect(Array.from(kept)).toEqual(new Array(8).fill(3))
    const zeroed = f32('test.same', 8)
    expect(zeroed).toBe(a)
    expect(Array.from(zeroed)).toEqual(new Array(8).fill(0))
  })

  it('makes a new plane when the length or the element type changes', () => {
    const a = f32('test.change', 8)
    const longer = f32('test.change', 9)
    expect(longer).not.toBe(a)
    expect(longer).toHaveLength(9)
    const bytes = u8('test.change', 9)
    expect(bytes).toBeInstanceOf(Uint8Array)
    const doubles = f64('test.change', 9)
    expect(doubles).toBeInstanceOf(Float64Array)
    expect(f64('test.change', 9)).toBe(doubles)
  })
})
