// TOP wants `yyyy-MM-dd HH:mm:ss` in GMT+8 (±10 min). why Intl with the zone
// named: the host's own zone (a server in UTC, a laptop in California) must
// never leak into the value.

const shanghai = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
})

/** The instant as TOP's `timestamp` parameter, in Asia/Shanghai. */
export function topTimestamp(at: Date = new Date()): string {
  const part = Object.fromEntries(shanghai.formatToParts(at).map((p) => [p.type, p.value]))
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}:${part.second}`
}

/** A TOP time (`modified`, `created`: `yyyy-MM-dd HH:mm:ss`, GMT+8) as an instant. */
export function parseTopTime(value: string): Date {
  return new Date(`${value.trim().replace(' ', 'T')}+08:00`)
}
