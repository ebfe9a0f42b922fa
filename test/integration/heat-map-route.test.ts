import { eq } from 'drizzle-orm'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { heatOf } from '#app/components/heat-view.server.ts'
import { db } from '#app/lib/db.server.ts'
import { loader } from '#app/routes/media.heat.$renderId.tsx'
import { renders, type Render, type Tenant } from '#db/schema.ts'
import { createLocalTenant, insertRender, removeCreatedTenants } from '#test/support/fixtures.ts'

// A render's heat map reaches the page as a signed, expiring link (the
// overlay loads it only when shown; the admin's iframe sends no session
// token with an <image> request), not as bytes inside every page's data.

let tenant: Tenant
let mapped: Render
let older: Render
let png: Buffer

beforeAll(async () => {
  tenant = await createLocalTenant()
  png = await sharp(Buffer.alloc(8 * 8, 200), { raw: { width: 8, height: 8, channels: 1 } }).png().toBuffer()
  const rect = { left: 10, top: 20, width: 80, height: 80 }
  mapped = await insertRender(tenant, { backend: 'cpu-studio', enqueue: false })
  older = await insertRender(tenant, { backend: 'cpu-studio', enqueue: false })
  await db()
    .update(renders)
    .set({ status: 'failed', fidelity: { heatMap: { width: 8, height: 8, rect, png: png.toString('base64'), hot: 64 } } as never })
    .where(eq(renders.id, mapped.id))
  await db()
    .update(renders)
    .set({ status: 'failed', fidelity: { heat: { cols: 1, rows: 1, rect, cells: [0.7] } } as never })
    .where(eq(renders.id, older.id))
  ;[mapped, older] = await Promise.all([mapped, older].map(async (r) => (await db().select().from(renders).where(eq(renders.id, r.id)))[0]))
})

afterAll(async () => {
  await removeCreatedTenants()
})

/** The route's answer: its Response, or the status it threw (Remix's data() on a refusal). */
const fetchHeat = async (url: string): Promise<{ status: number; response?: Response }> => {
  try {
    const path = url.split('?')[0]
    const response = (await loader({ request: new Request(`http://localhost${url}`), params: { renderId: path.split('/').at(-1) }, context: {} }))!
    return { status: response.status, response }
  } catch (e) {
    const init = (e as { init?: { status?: number } }).init
    if (e instanceof Response) return { status: e.status }
    if (init?.status) return { status: init.status }
    throw e
  }
}

describe('the heat map link', () => {
  it('hands the page a signed link for a stored map, and the cells of an older render as they are', () => {
    const heat = heatOf(mapped)
    expect(heat).toMatchObject({ width: 8, height: 8, hot: 64, url: expect.stringMatching(/^\/media\/heat\/[0-9a-f-]{36}\?exp=\d+&sig=/) })
    expect(JSON.stringify(heat)).not.toContain(png.toString('base64'))
    expect(heatOf(older)).toMatchObject({ cols: 1, rows: 1, cells: [0.7] })
  })

  it('serves the PNG to a valid link only', async () => {
    const url = (heatOf(mapped) as { url: string }).url
    const ok = (await fetchHeat(url)).response!
    expect(ok.status).toBe(200)
    expect(ok.headers.get('content-type')).toBe('image/png')
    expect(Buffer.from(await ok.arrayBuffer()).equals(png)).toBe(true)
    expect((await fetchHeat(url.replace(/sig=.*/, 'sig=forged'))).status).toBe(403)
    // Another render's id under this render's signature is refused too.
    expect((await fetchHeat(url.replace(mapped.id, older.id))).status).toBe(403)
  })
})
