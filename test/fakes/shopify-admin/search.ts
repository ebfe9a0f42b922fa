// The subset of Shopify's product search syntax Atelier relies on:
//   free text (matches the title), title:, vendor:, product_type:, status:,
//   tag:, handle:, id:, collection_id:, created_at:/updated_at: with > >= < <=,
//   terms joined by whitespace or AND, `-field:` / `NOT field:` negation,
//   "quoted values" and a trailing * for prefix matches.
// Like Shopify, an unknown field is ignored and reported as a search warning
// (extensions.search) instead of failing the query. OR is not supported and
// is reported the same way.
import { parseGid } from './ids.ts'
import type { ProductRecord, ShopRecord } from './store.ts'

export interface SearchWarning {
  field: string
  message: string
  code: string
}

interface Term {
  field: string | null
  value: string
  negate: boolean
}

const FIELDS = new Set([
  'title',
  'vendor',
  'product_type',
  'status',
  'tag',
  'handle',
  'id',
  'collection_id',
  'created_at',
  'updated_at',
])

function tokenize(query: string): string[] {
  const tokens: string[] = []
  const re = /(-?[A-Za-z_]+:)?("[^"]*"|'[^']*'|\S+)/g
  for (const match of query.matchAll(re)) tokens.push(match[0])
  return tokens
}

function unquote(value: string): string {
  return /^(".*"|'.*')$/.test(value) ? value.slice(1, -1) : value
}

export function parseProductSearch(query: string): { terms: Term[]; warnings: SearchWarning[] } {
  const terms: Term[] = []
  const warnings: SearchWarning[] = []
  let negateNext = false
  for (const token of tokenize(query.trim())) {
    if (token === 'AND') continue
    if (token === 'NOT') {
      negateNext = true
      continue
    }
    if (token === 'OR') {
      warnings.push({
        field: 'OR',
        message: 'OR is not supported by the Atelier test fake; terms were combined with AND.',
        code: 'unsupported',
      })
      continue
    }
    const fielded = /^(-?)([A-Za-z_]+):(.*)$/s.exec(token)
    if (fielded) {
      const field = fielded[2].toLowerCase()
      if (!FIELDS.has(field)) {
        warnings.push({ field, message: 'Invalid search field for this query.', code: 'invalid_field' })
        negateNext = false
        continue
      }
      terms.push({ field, value: unquote(fielded[3]), negate: negateNext || fielded[1] === '-' })
    } else {
      const negate = negateNext || (token.startsWith('-') && token.length > 1)
      terms.push({ field: null, value: unquote(negate && token.startsWith('-') ? token.slice(1) : token), negate })
    }
    negateNext = false
  }
  return { terms, warnings }
}

function textMatch(haystack: string, needle: string, mode: 'contains' | 'exact'): boolean {
  const h = haystack.toLowerCase()
  const n = needle.toLowerCase()
  if (n.endsWith('*')) return mode === 'exact' ? h.startsWith(n.slice(0, -1)) : h.includes(n.slice(0, -1))
  return mode === 'exact' ? h === n : h.includes(n)
}

function compareDate(actual: Date, expression: string): boolean {
  const match = /^(>=|<=|>|<)?(.*)$/.exec(expression)!
  const at = Date.parse(unquote(match[2]))
  if (Number.isNaN(at)) return true
  const t = actual.getTime()
  switch (match[1]) {
    case '>':
      return t > at
    case '>=':
      return t >= at
    case '<':
      return t < at
    case '<=':
      return t <= at
    default:
      return new Date(at).toISOString().slice(0, 10) === actual.toISOString().slice(0, 10)
  }
}

function termMatches(shop: ShopRecord, product: ProductRecord, term: Term): boolean {
  const value = term.value
  switch (term.field) {
    case null:
    case 'title':
      return textMatch(product.title, value, 'contains')
    case 'vendor':
      return textMatch(product.vendor, value, 'exact')
    case 'product_type':
      return textMatch(product.productType, value, 'exact')
    case 'handle':
      return textMatch(product.handle, value, 'exact')
    case 'status':
      return value.split(',').some((s) => s.trim().toUpperCase() === product.status)
    case 'tag':
      return product.tags.some((tag) => textMatch(tag, value, 'exact'))
    case 'id':
      return String(product.legacyId) === (parseGid(value)?.id ?? value)
    case 'collection_id': {
      const id = parseGid(value)?.id ?? value
      return [...shop.collections.values()].some((c) => String(c.legacyId) === id && c.productIds.includes(product.id))
    }
    case 'created_at':
      return compareDate(product.createdAt, value)
    case 'updated_at':
      return compareDate(product.updatedAt, value)
    default:
      return true
  }
}

export function productMatches(shop: ShopRecord, product: ProductRecord, terms: Term[]): boolean {
  return terms.every((term) => termMatches(shop, product, term) !== term.negate)
}
