import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ShopifyAdminFake } from './index.ts'
import { gql, SHOP, startFake, startWebhookReceiver, waitFor } from './test-helpers.ts'

const RUN = `mutation Run($query: String!, $groupObjects: Boolean!) {
  bulkOperationRunQuery(query: $query, groupObjects: $groupObjects) { bulkOperation { id status } userErrors { field message code } }
}`
const POLL = `query Poll($id: ID!) { bulkOperation(id: $id) { id status errorCode objectCount rootObjectCount fileSize url } }`
const CATALOG = `{
  products(query: "status:active") {
    edges { node { id title vendor media { edges { node { id alt ... on MediaImage { image { url } } } } } } }
  }
}`

let fake: ShopifyAdminFake
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>

beforeAll(async () => {
  receiver = await startWebhookReceiver()
  fake = await startFake({ appUrl: receiver.url })
})

afterAll(async () => {
  await fake.close()
  await receiver.close()
})

async function runToCompletion(query: string, groupObjects: boolean) {
  const run = await gql(fake, RUN, { query, groupObjects })
  const { bulkOperation, userErrors } = run.body.data!.bulkOperationRunQuery
  expect(userErrors).toEqual([])
  expect(bulkOperation.status).toBe('CREATED')
  const op = await waitFor(
    async () => (await gql(fake, POLL, { id: bulkOperation.id })).body.data!.bulkOperation,
    (polled) => polled.status === 'COMPLETED' || polled.status === 'FAILED',
  )
  return { op }
}

describe('bulk operations', () => {
  it('runs the query over the whole catalog and writes JSONL with __parentId rows', async () => {
    const { op } = await runToCompletion(CATALOG, false)
    expect(op).toMatchObject({ status: 'COMPLETED', errorCode: null, objectCount: '7', rootObjectCount: '3' })
    const res = await fetch(op.url)
    const text = await res.text()
    expect(res.headers.get('content-type')).toBe('application/jsonl')
    expect(String(Buffer.byteLength(text))).toBe(op.fileSize)
    const rows = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    const parents = rows.filter((r) => !('__parentId' in r))
    const children = rows.filter((r) => '__parentId' in r)
    expect(parents.map((p) => p.title).sort()).toEqual(['Canvas Tote', 'Silk Slip Dress', 'Sunday Graphic Tee'])
    expect(parents.every((p) => !('media' in p))).toBe(true)
    for (const child of children) {
      expect(Object.keys(child).at(-1)).toBe('__parentId')
      expect(parents.some((p) => p.id === child.__parentId)).toBe(true)
      // Not adjacent: the row right before a child is never its own parent.
      const before = rows[rows.indexOf(child) - 1]
      expect(before.id === child.__parentId).toBe(false)
      expect((child.image as { url: string }).url).toMatch(/\/cdn\/files\//)
    }
    expect(children).toHaveLength(4)
  })

  it('keeps children under their parent with groupObjects: true, and sends bulk_operations/finish', async () => {
    const { op } = await runToCompletion(CATALOG, true)
    const rows = (await (await fetch(op.url)).text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    for (const [index, row] of rows.entries()) {
      if (!('__parentId' in row)) continue
      const parent = rows
        .slice(0, index)
        .reverse()
        .find((r) => !('__parentId' in r))
      expect(parent?.id).toBe(row.__parentId)
    }
    const finish = await waitFor(
      () =>
        receiver.received
          .filter((w) => w.headers['x-shopify-topic'] === 'bulk_operations/finish')
          .map((w) => JSON.parse(w.rawBody)),
      (payloads) => payloads.some((p) => p.admin_graphql_api_id === op.id),
    )
    expect(finish.find((p) => p.admin_graphql_api_id === op.id)).toEqual({
      admin_graphql_api_id: op.id,
      completed_at: expect.any(String),
      created_at: expect.any(String),
      error_code: null,
      status: 'completed',
      type: 'query',
    })
  })

  it('refuses queries Shopify refuses, with its messages', async () => {
    const errorsFor = async (query: string) =>
      (await gql(fake, RUN, { query, groupObjects: false })).body.data!.bulkOperationRunQuery
    expect(await errorsFor('{ products { nodes { id } } }')).toEqual({
      bulkOperation: null,
      userErrors: [
        {
          field: ['query'],
          message:
            "All connection fields in a bulk query must select their contents using 'edges' > 'node', e.g: 'products { edges { node {'. Selecting via 'nodes' is not supported. Invalid connection fields: 'products'.",
          code: 'INVALID',
        },
      ],
    })
    expect((await errorsFor('{ shop { id } }')).userErrors).toEqual([
      { field: ['query'], message: 'Bulk queries must contain at least one connection.', code: 'INVALID' },
    ])
    expect(
      (await errorsFor('{ products { edges { node { title media { edges { node { id } } } } } } }')).userErrors[0].message,
    ).toContain("Connection fields without 'id': media.")
    expect((await errorsFor('')).userErrors).toEqual([
      { field: ['query'], message: 'Invalid bulk query: syntax error, unexpected end of file', code: 'INVALID' },
    ])
  })

  it('allows five bulk queries at a time', async () => {
    const runs = await Promise.all(Array.from({ length: 6 }, () => gql(fake, RUN, { query: CATALOG, groupObjects: false })))
    const payloads = runs.map((r) => r.body.data!.bulkOperationRunQuery)
    expect(payloads.filter((p) => p.userErrors.length === 0)).toHaveLength(5)
    expect(payloads.find((p) => p.userErrors.length > 0)!.userErrors[0]).toMatchObject({
      field: null,
      message: expect.stringMatching(
        /^A bulk query operation for this app and shop is already in progress: gid:\/\/shopify\/BulkOperation\//,
      ),
      code: 'OPERATION_IN_PROGRESS',
    })
    expect(fake.state(SHOP).bulkOperations.length).toBeGreaterThanOrEqual(7)
  })
})
