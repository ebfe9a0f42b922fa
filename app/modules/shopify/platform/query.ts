import type { ProductQuery } from '#app/modules/platforms/types.ts'

// Shopify's search syntax and file names: pure, shared by the platform and its catalog read.

// Our published files are named atelier-<render uuid>.<ext> (publishImage).
export const OUR_FILE = /^atelier-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}[._]/i

const escape = (v: string) => v.replace(/[\\:()]/g, (c) => `\\${c}`)
const quoted = (v: string) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`

/**
 * Shopify search syntax for the merchant's filters: every word a title
 * prefix, plus exact vendor, product type, status and collection.
 */
export function searchQuery(query: ProductQuery | string | undefined): string | null {
  const q = typeof query === 'string' || query === undefined ? { search: query } : query
  const words = (q.search ?? '')
    .split(/\s+/)
    // why: quotes open a quoted value in the syntax; an apostrophe inside a word (D'Addario) is plain text.
    .map((w) => w.replace(/"/g, '').replace(/^'+|'+$/g, ''))
    .filter(Boolean)
    .slice(0, 8)
  const clauses = words.map((w) => `title:${escape(w)}*`)
  if (q.vendor?.trim()) clauses.push(`vendor:${quoted(q.vendor.trim())}`)
  if (q.productType?.trim()) clauses.push(`product_type:${quoted(q.productType.trim())}`)
  if (q.status) clauses.push(`status:${q.status}`)
  // why the numeric id: collection_id takes the number, not the gid.
  const collection = q.collectionId?.match(/(\d+)$/)?.[1]
  if (collection) clauses.push(`collection_id:${collection}`)
  return clauses.length > 0 ? clauses.join(' AND ') : null
}

export function fileNameOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '')
  } catch {
    return ''
  }
}
