import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ShopifyAdminFake } from './index.ts'
import { gql, jpeg, SHOP, startFake, startWebhookReceiver, waitFor } from './test-helpers.ts'

const STAGE = `mutation Stage($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) { stagedTargets { url resourceUrl parameters { name value } } userErrors { field message } }
}`
const ATTACH = `mutation Attach($product: ProductUpdateInput!, $media: [CreateMediaInput!]!) {
  productUpdate(product: $product, media: $media) {
    product { id media(last: 5, sortKey: POSITION) { nodes { id alt status mediaContentType } } }
    userErrors { field message }
  }
}`
const MEDIA = `query Media($id: ID!) {
  node(id: $id) { __typename id ... on MediaImage { alt status image { url width height } mediaErrors { code message details } } }
}`

let fake: ShopifyAdminFake
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>

beforeAll(async () => {
  receiver = await startWebhookReceiver()
  // why 900 ms: a PROCESSING window of 600 ms, so a poll sees every status even on a busy machine.
  fake = await startFake({ appUrl: receiver.url, mediaProcessingMs: 900 })
})

afterAll(async () => {
  await fake.close()
  await receiver.close()
})

async function stage(filename: string, mimeType = 'image/jpeg') {
  const res = await gql(fake, STAGE, { input: [{ filename, mimeType, resource: 'IMAGE', httpMethod: 'POST' }] })
  expect(res.body.data!.stagedUploadsCreate.userErrors).toEqual([])
  return res.body.data!.stagedUploadsCreate.stagedTargets[0] as {
    url: string
    resourceUrl: string
    parameters: { name: string; value: string }[]
  }
}

async function upload(target: Awaited<ReturnType<typeof stage>>, bytes: Buffer, fileFirst = false): Promise<Response> {
  const form = new FormData()
  const file = new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' })
  if (fileFirst) form.append('file', file, 'render.jpg')
  for (const { name, value } of target.parameters) form.append(name, value)
  if (!fileFirst) form.append('file', file, 'render.jpg')
  return fetch(target.url, { method: 'POST', body: form })
}

async function attach(productId: string, originalSource: string, alt: string) {
  const res = await gql(fake, ATTACH, { product: { id: productId }, media: [{ originalSource, mediaContentType: 'IMAGE', alt }] })
  expect(res.body.data!.productUpdate.userErrors).toEqual([])
  return res.body.data!.productUpdate.product.media.nodes.at(-1) as { id: string; status: string }
}

async function pollMedia(id: string, until: string[]) {
  return waitFor(
    async () => (await gql(fake, MEDIA, { id })).body.data!.node,
    (node) => until.includes(node.status),
  )
}

describe('publishing an image: staged upload → productUpdate(media:) → READY', () => {
  it('processes a real JPEG to READY and serves exactly the uploaded bytes', async () => {
    const product = fake.state(SHOP).products.find((p) => p.title === 'Silk Slip Dress')!
    const bytes = await jpeg(320, 480, { r: 10, g: 120, b: 200 })
    const target = await stage('on-model.jpg')
    expect(target.url).toBe(`${fake.origin}/${SHOP}/staged/${target.url.split('/').pop()}`)
    expect(target.parameters.map((p) => p.name)).toEqual([
      'Content-Type',
      'success_action_status',
      'acl',
      'key',
      'x-goog-date',
      'x-goog-credential',
      'x-goog-algorithm',
      'x-goog-signature',
      'policy',
    ])
    const uploaded = await upload(target, bytes)
    expect(uploaded.status).toBe(201)
    expect(await uploaded.text()).toContain('<PostResponse>')

    const created = await attach(product.id, target.resourceUrl, 'Silk Slip Dress on model')
    expect(created.status).toBe('UPLOADED')
    const seen = new Set<string>([created.status])
    const ready = await waitFor(
      async () => (await gql(fake, MEDIA, { id: created.id })).body.data!.node,
      (node) => {
        seen.add(node.status)
        return node.status === 'READY'
      },
    )
    expect([...seen]).toEqual(['UPLOADED', 'PROCESSING', 'READY'])
    expect(ready).toMatchObject({ alt: 'Silk Slip Dress on model', image: { width: 320, height: 480 }, mediaErrors: [] })
    const served = Buffer.from(await (await fetch(ready.image.url)).arrayBuffer())
    expect(createHash('sha256').update(served).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'))

    const state = fake.state(SHOP)
    const media = state.media.find((m) => m.id === created.id)!
    expect(media).toMatchObject({ origin: 'app', status: 'READY', productIds: [product.id], width: 320 })
    expect(media.sourceSha256).toBe(createHash('sha256').update(bytes).digest('hex'))
    const dress = state.products.find((p) => p.id === product.id)!
    expect(dress.media.map((m) => m.origin)).toEqual(['seed', 'app'])
  })

  it('fails garbage bytes with mediaErrors, and a source that was never uploaded', async () => {
    const product = fake.state(SHOP).products.find((p) => p.title === 'Wool Overcoat')!
    const target = await stage('broken.jpg')
    expect((await upload(target, Buffer.from('definitely not a jpeg'))).status).toBe(201)
    const garbage = await attach(product.id, target.resourceUrl, 'broken')
    const failed = await pollMedia(garbage.id, ['READY', 'FAILED'])
    expect(failed).toMatchObject({ status: 'FAILED', image: null, mediaErrors: [{ code: 'UNSUPPORTED_IMAGE_FILE_TYPE' }] })

    const never = await stage('never.jpg')
    const missing = await attach(product.id, never.resourceUrl, 'missing')
    expect(await pollMedia(missing.id, ['READY', 'FAILED'])).toMatchObject({
      status: 'FAILED',
      mediaErrors: [{ code: 'IMAGE_DOWNLOAD_FAILURE' }],
    })
  })

  it('refuses an upload whose file is not the last form part, like GCS', async () => {
    const target = await stage('order.jpg')
    const res = await upload(target, await jpeg(), true)
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('<Code>InvalidPolicyDocument</Code>')
  })

  it('answers userErrors for a bad source, an unknown product and a non-image mime type', async () => {
    const product = fake.state(SHOP).products[0]
    const bad = await gql(fake, ATTACH, {
      product: { id: product.id },
      media: [{ originalSource: 'not-a-url', mediaContentType: 'IMAGE' }],
    })
    expect(bad.body.data!.productUpdate.userErrors).toEqual([
      { field: ['media', '0', 'originalSource'], message: 'Image URL is invalid' },
    ])
    const unknown = await gql(fake, ATTACH, { product: { id: 'gid://shopify/Product/1' }, media: [] })
    expect(unknown.body.data!.productUpdate).toEqual({
      product: null,
      userErrors: [{ field: ['id'], message: 'Product does not exist' }],
    })
    const exe = await gql(fake, STAGE, {
      input: [{ filename: 'x.exe', mimeType: 'application/x-msdownload', resource: 'IMAGE', httpMethod: 'POST' }],
    })
    expect(exe.body.data!.stagedUploadsCreate.userErrors).toEqual([
      { field: ['input', '0', 'mimeType'], message: 'x.exe: (application/x-msdownload) is not a recognized format' },
    ])
  })
})

describe('reordering and undoing', () => {
  it('reorders in a job, then detaches with fileUpdate and deletes with fileDelete', async () => {
    const product = fake.state(SHOP).products.find((p) => p.title === 'Sunday Graphic Tee')!
    const original = product.mediaIds[0]
    const target = await stage('tee-on-model.jpg')
    await upload(target, await jpeg(100, 100))
    const ours = await attach(product.id, target.resourceUrl, 'Tee on model')
    await pollMedia(ours.id, ['READY'])

    const reorder = await gql(
      fake,
      'mutation($id: ID!, $moves: [MoveInput!]!) { productReorderMedia(id: $id, moves: $moves) { job { id done } mediaUserErrors { field message code } } }',
      {
        id: product.id,
        moves: [{ id: ours.id, newPosition: '0' }],
      },
    )
    const job = reorder.body.data!.productReorderMedia.job
    expect(job.done).toBe(false)
    await waitFor(
      async () => (await gql(fake, 'query($id: ID!) { job(id: $id) { done } }', { id: job.id })).body.data!.job.done,
      (done) => done === true,
    )
    expect(fake.state(SHOP).products.find((p) => p.id === product.id)!.mediaIds).toEqual([ours.id, original])

    const detach = await gql(
      fake,
      'mutation($files: [FileUpdateInput!]!) { fileUpdate(files: $files) { files { id } userErrors { field message code } } }',
      {
        files: [{ id: ours.id, referencesToRemove: [product.id] }],
      },
    )
    expect(detach.body.data!.fileUpdate).toEqual({ files: [{ id: ours.id }], userErrors: [] })
    let state = fake.state(SHOP)
    expect(state.products.find((p) => p.id === product.id)!.mediaIds).toEqual([original])
    expect(state.files.find((f) => f.id === ours.id)).toMatchObject({ productIds: [], fileStatus: 'READY' })

    const del = await gql(
      fake,
      'mutation($ids: [ID!]!) { fileDelete(fileIds: $ids) { deletedFileIds userErrors { field message code } } }',
      { ids: [ours.id] },
    )
    expect(del.body.data!.fileDelete).toEqual({ deletedFileIds: [ours.id], userErrors: [] })
    state = fake.state(SHOP)
    expect(state.media.some((m) => m.id === ours.id)).toBe(false)
    expect(state.deletedFileIds).toContain(ours.id)
    expect(state.media.find((m) => m.id === original)).toMatchObject({ origin: 'seed', status: 'READY' })

    const again = await gql(
      fake,
      'mutation($ids: [ID!]!) { fileDelete(fileIds: $ids) { deletedFileIds userErrors { field message code } } }',
      { ids: [ours.id] },
    )
    expect(again.body.data!.fileDelete).toEqual({
      deletedFileIds: null,
      userErrors: [{ field: ['fileIds'], message: `File id ${ours.id} does not exist.`, code: 'FILE_DOES_NOT_EXIST' }],
    })
  })

  it('echoes products/update to the app for its own media writes, signed with the app secret', async () => {
    await waitFor(
      () => receiver.received.filter((w) => w.headers['x-shopify-topic'] === 'products/update').length,
      (n) => n >= 4,
    )
    const echoes = receiver.received.filter((w) => w.headers['x-shopify-topic'] === 'products/update')
    for (const echo of echoes) {
      expect(echo.path).toBe('/webhooks')
      expect(echo.headers['x-shopify-shop-domain']).toBe(SHOP)
      expect(JSON.parse(echo.rawBody)).toMatchObject({
        admin_graphql_api_id: expect.stringMatching(/^gid:\/\/shopify\/Product\//),
      })
    }
    expect(fake.state(SHOP).webhookDeliveries.every((d) => d.status === 200)).toBe(true)
  })
})
