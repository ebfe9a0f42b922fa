// Keyboard behaviour shared by the studio's groups of choice tiles (the ARIA
// radio pattern): each group is one tab stop, arrow keys move and choose.
import type { KeyboardEvent } from 'react'

/** Is this tile its group's tab stop: the chosen one, or the first when none of the group is chosen. */
export const tabStop = (tiles: readonly { id: string }[], chosen: string, id: string): boolean =>
  id === chosen || (!tiles.some((x) => x.id === chosen) && id === tiles[0]?.id)

const STEP: Record<string, number> = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }

/** On a radiogroup: arrow keys, Home and End move to a choice and choose it, skipping disabled ones. */
export function roveChoices(e: KeyboardEvent<HTMLElement>): void {
  const radios = [...e.currentTarget.querySelectorAll<HTMLButtonElement>('[role="radio"]:not([disabled])')]
  const at = radios.indexOf(document.activeElement as HTMLButtonElement)
  if (at < 0 || radios.length === 0) return
  const next = e.key in STEP ? (at + STEP[e.key] + radios.length) % radios.length : e.key === 'Home' ? 0 : e.key === 'End' ? radios.length - 1 : -1
  if (next < 0) return
  e.preventDefault()
  radios[next].focus()
  radios[next].click()
}
