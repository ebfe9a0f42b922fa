import { createInterface } from 'node:readline'
import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { AppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import { readListedCatalog, selectionQuery } from '#app/modules/platforms/catalog.server.ts'
import type {
  CatalogImage,
  CatalogRead,
  CatalogSelection,
  CatalogSelectionKind,
  ReadCatalogOptions,
  StorePlatform,
} from '#app/modules/platforms/types.ts'
import type { AdminClient } from '../admin/client.server.ts'
import { BULK_OPERATION_RUN_QUERY, BULK_OPERATION_STATUS } from '../documents.ts'
import { fileNameOf, OUR_FILE, searchQuery } from './query.ts'

// A Shopify catalog for a bulk run: picked products through the platform, any
// other selection with one bulk operation (finished by webhook or polling)
// whose JSONL result is streamed line by line, never held.

export const SHOPIFY_CATALOG_SELECTIONS: ReadonlySet<CatalogSelectionKind> = new Set(['all', 'collection', 'query', 'products'])

export async function readShopifyCatalog(
  platform: StorePlatform,
  deps: { client: AdminClient; fetchImpl: typeof fetch },
  selection: CatalogSelection,
  opts: ReadCatalogOptions,
): Promise<CatalogRead> {
  if (selection.kind === 'products') return readListedCatalog(platform, selection, opts)
  if (!opts.operation) return { state: 'started', operation: await startCatalogRead(deps.client, selection) }
  const status = await catalogReadStatus(deps.client, opts.operation)
  if (status.state === 'running') return { state: 'running' }
  if (status.state === 'failed') throw new AppError('INTERNAL', status.reason)
  // why the guarded fetch: the file's URL comes from an API answer, like a CDN image's.
  const images = status.url ? jsonlCatalogImages(remoteLines(status.url, deps.fetchImpl)) : emptyCatalog()
  return { state: 'ready', images, mayIncludeOurs: true }
}

async function* emptyCatalog(): AsyncGenerator<CatalogImage> {}

/**
 * The bulk query for a selection: products with their media in position
 * order. why a literal and not variables: bulk queries take none; the search
 * string is a GraphQL string literal (JSON escaping is valid GraphQL escaping).
 */
export function bulkCatalogQuery(selection: Exclude<CatalogSelection, { kind: 'products' }>): string {
  const search = searchQuery(selectionQuery(selection))
  const args = search ? `(query: ${JSON.stringify(search)})` : ''
  return `{
  products${args} {
    edges {
      node {
        id
        title
        media(sortKey: POSITION) {
          edges {
            node {
              id
              mediaContentType
              status
              ... on MediaImage {
                image {
                  url
                }
              }
            }
          }
        }
      }
    }
  }
}`
}

/** Starts the catalog read; returns the bulk operation's id. A shop already running five bulk queries is told to wait (retryable). */
export async function startCatalogRead(
  client: AdminClient,
  selection: Exclude<CatalogSelection, { kind: 'products' }>,
): Promise<string> {
  const data = await client.request(BULK_OPERATION_RUN_QUERY, { query: bulkCatalogQuery(selection) }, { idempotent: false })
  const payload = data.bulkOperationRunQuery
  const errors = payload?.userErrors ?? []
  if (errors.length > 0 || !payload?.bulkOperation) {
    const busy = errors.some((e) => e.code === 'OPERATION_IN_PROGRESS')
    throw new AppError(
      'SHOPIFY_USER_ERROR',
      `Reading the catalog failed: ${errors.map((e) => e.message).join('; ') || 'no bulk operation'}`,
      {
        retryable: busy,
        details: { userErrors: errors },
      },
    )
  }
  return payload.bulkOperation.id
}

export type CatalogReadStatus =
  { state: 'running' } | { state: 'completed'; url: string | null; objectCount: number } | { state: 'failed'; reason: string }

export async function catalogReadStatus(client: AdminClient, operationId: string): Promise<CatalogReadStatus> {
  const op = (await client.request(BULK_OPERATION_STATUS, { id: operationId })).bulkOperation
  if (!op) return { state: 'failed', reason: `Bulk operation ${operationId} not found` }
  switch (op.status) {
    case 'CREATED':
    case 'RUNNING':
    case 'CANCELING':
      return { state: 'running' }
    case 'COMPLETED':
      // why url may be null: a query that matched nothing writes no file.
      return { state: 'completed', url: op.url ?? null, objectCount: Number(op.objectCount ?? 0) }
    default:
      return { state: 'failed', reason: `Shopify's catalog read ended ${op.status}${op.errorCode ? ` (${op.errorCode})` : ''}` }
  }
}

/**
 * The lines of a remote text file, read as they arrive. why readline over
 * the body stream: the file can be hundreds of MB; only a line at a time (and
 * the stream's small buffer) is ever in memory, and a slow consumer pauses
 * the download instead of letting it pile up.
 */
export async function* remoteLines(url: string, fetchImpl: typeof fetch = fetch): AsyncGenerator<string> {
  let response: Response
  try {
    response = await fetchImpl(url, { signal: AbortSignal.timeout(30 * 60_000) })
  } catch (e) {
    throw new AppError('SHOPIFY_UNAVAILABLE', 'The catalog file could not be downloaded', { cause: e, retryable: true })
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel()
    throw new AppError('SHOPIFY_UNAVAILABLE', `The catalog file answered ${response.status}`, {
      retryable: response.status >= 500,
    })
  }
  const input = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>)
  const lines = createInterface({ input, crlfDelay: Infinity })
  try {
    for await (const line of lines) yield line
  } finally {
    lines.close()
    input.destroy()
  }
}

interface ParentRow {
  title: string
}

interface MediaRow {
  id: string
  mediaContentType?: string
  status?: string
  image?: { url?: string | null } | null
  __parentId: string
}

/**
 * Turns bulk-operation JSONL (products, then media rows carrying
 * `__parentId`) into catalog images in file order. Shopify does not promise
 * a child sits next to its parent, nor any order at all, so parents are kept
 * by id (one small entry per product: its title) and a child read before its
 * parent waits until the end. Media that is not a READY image, or is an
 * image Atelier published (named atelier-<render id>), is skipped.
 */
export async function* jsonlCatalogImages(
  lines: AsyncIterable<string>,
  stats: { products: number; media: number; skipped: number; orphans: number } = {
    products: 0,
    media: 0,
    skipped: 0,
    orphans: 0,
  },
): AsyncGenerator<CatalogImage> {
  const parents = new Map<string, ParentRow>()
  const early: MediaRow[] = []
  const toImage = (row: MediaRow, parent: ParentRow): CatalogImage | null => {
    const url = row.image?.url
    if (row.mediaContentType !== 'IMAGE' || row.status !== 'READY' || !url || OUR_FILE.test(fileNameOf(url))) {
      stats.skipped++
      return null
    }
    return { productRef: row.__parentId, productTitle: parent.title, imageRef: row.id }
  }
  for await (const line of lines) {
    if (line.length === 0) continue
    let row: Record<string, unknown>
    try {
      row = JSON.parse(line) as Record<string, unknown>
    } catch (e) {
      throw new AppError('SHOPIFY_UNAVAILABLE', 'The catalog file has a line that is not JSON', { cause: e, retryable: true })
    }
    if (typeof row.id !== 'string') continue
    if (typeof row.__parentId !== 'string') {
      if (row.id.startsWith('gid://shopify/Product/')) {
        // why cap the title: it is copied into every item row of the product.
        parents.set(row.id, { title: String(row.title ?? row.id).slice(0, 500) })
        stats.products++
      }
      continue
    }
    stats.media++
    const parent = parents.get(row.__parentId)
    if (!parent) {
      early.push(row as unknown as MediaRow)
      continue
    }
    const image = toImage(row as unknown as MediaRow, parent)
    if (image) yield image
  }
  for (const row of early) {
    const parent = parents.get(row.__parentId)
    if (!parent) {
      stats.orphans++
      continue
    }
    const image = toImage(row, parent)
    if (image) yield image
  }
  if (stats.orphans > 0) logger().warn({ orphans: stats.orphans }, 'catalog file had media rows without their product')
}
