import type { LoaderFunctionArgs } from '@remix-run/node'
import { throwAsResponse } from '#app/lib/http.server.ts'
import { bulkRunReport, getBulkRun } from '#app/modules/bulk/service.server.ts'
import { requireTenant } from '#app/modules/tenants/session.server.ts'

// GET /app/bulk/:runId/report.csv — the run's report, streamed as it is read
// (product, image, look, status, render id, fidelity score, error per item).
export async function loader({ request, params }: LoaderFunctionArgs) {
  const tenant = await requireTenant(request)
  const run = await getBulkRun(tenant.id, params.runId ?? '').catch(throwAsResponse)
  return new Response(bulkRunReport(tenant.id, run), {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="atelier-bulk-${run.id}.csv"`,
      'cache-control': 'private, no-store',
    },
  })
}
