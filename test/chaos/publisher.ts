// The web side's Publish, as its own process so the chaos suite can kill it
// mid-publish: `publisher.ts <tenantId> <renderId>`; exits 0 when published.
import { eq } from 'drizzle-orm'
import { closeDb, db } from '#app/lib/db.server.ts'
import { closeAdminClients } from '#app/modules/shopify/admin/budget.server.ts'
import { publishRender } from '#app/modules/renders/service.server.ts'
import { tenants } from '#db/schema.ts'

const [tenantId, renderId] = process.argv.slice(2)
const tenant = await db().query.tenants.findFirst({ where: eq(tenants.id, tenantId) })
if (!tenant) throw new Error(`tenant ${tenantId} not found`)
try {
  const render = await publishRender(tenant, renderId, { override: true })
  console.log(JSON.stringify({ reviewState: render.reviewState }))
} finally {
  await closeAdminClients()
  await closeDb()
}
