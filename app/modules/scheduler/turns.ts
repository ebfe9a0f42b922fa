// Whose turn it is: shops take turns for interactive work (a round-robin
// cursor, shops at their slot share last) and share bulk throughput.
import type { GroupView, WorkView } from './policy.ts'

/** Next tenant after the cursor (in id order; shops at their cap last), then that tenant's oldest group. */
export function roundRobin(
  candidates: readonly GroupView[],
  cursor: string | undefined,
  capped: ReadonlySet<string> = new Set(),
): GroupView {
  return roundRobinOrder(candidates, cursor, capped)[0]
}

/**
 * Bulk work: the shop whose last bulk render was dispatched longest ago (on
 * any model and backend), then that shop's oldest group; ties in round-robin
 * order. why not a round robin among the groups one backend can take: that
 * shares each model's GPUs between shops, so a shop whose remaining run is on
 * one model got a third of that model's GPUs and nothing elsewhere (6.4
 * points off an equal share in staggered-bulk). why dispatch order, not
 * time: one round dispatches many renders at the same time.
 */
export function fairest(candidates: readonly GroupView[], work: WorkView): GroupView {
  const turn = (t: string) => work.bulkTurn?.[t] ?? -Infinity
  let best: GroupView | undefined
  for (const g of roundRobinOrder(candidates, work.cursor.bulk)) if (!best || turn(g.tenant) < turn(best.tenant)) best = g
  return best!
}

/** Candidates in round-robin order: tenants from the cursor on (shops at their cap after the rest), each tenant's groups oldest first. */
export function roundRobinOrder(
  candidates: readonly GroupView[],
  cursor: string | undefined,
  capped: ReadonlySet<string> = new Set(),
): GroupView[] {
  const tenants = [...new Set(candidates.map((g) => g.tenant))].sort()
  const start = cursor !== undefined ? tenants.findIndex((t) => t > cursor) : 0
  const ordered = start <= 0 ? tenants : [...tenants.slice(start), ...tenants.slice(0, start)]
  const turns = [...ordered.filter((t) => !capped.has(t)), ...ordered.filter((t) => capped.has(t))]
  return turns.flatMap((t) => candidates.filter((g) => g.tenant === t).sort((a, b) => a.oldestSeq - b.oldestSeq))
}
