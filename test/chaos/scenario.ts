// One chaos scenario in its own process (run.ts starts one per scenario, so
// each has its own services, connections and environment):
// `scenario.ts <name>`; its last line is `CHAOS-RESULT <json>`.
import { closeDb } from '#app/lib/db.server.ts'
import { closeQueues } from '#app/modules/renders/enqueue.server.ts'
import { closePool } from '#app/modules/backends/pool.server.ts'
import { closeBulkQueue } from '#app/modules/bulk/queue.server.ts'
import { closeAdminClients } from '#app/modules/shopify/admin/budget.server.ts'
import { removeCreatedTenants } from '#test/support/fixtures.ts'
import { deleteQueueKeys } from '#test/support/queue.ts'
import { killWorkerProcesses } from '#test/support/worker-process.ts'
import { Tally } from './harness.ts'
import { gpu500s, gpuGarbage, gpuHung, gpuKilled } from './scenarios/gpu.ts'
import { postgresRestartedMidRun, redisRestartedMidBulkRun, storageFull } from './scenarios/services.ts'
import { killedMidPublish, workerKilledMidBulkRun, workerKilledMidRender } from './scenarios/workers.ts'

export const scenarios: Record<string, (tally: Tally) => Promise<void>> = {
  'worker-killed-mid-render': workerKilledMidRender,
  'worker-killed-mid-publish': killedMidPublish,
  'worker-killed-mid-bulk-run': workerKilledMidBulkRun,
  'gpu-killed': gpuKilled,
  'gpu-hung': gpuHung,
  'gpu-garbage': gpuGarbage,
  'gpu-500s': gpu500s,
  'redis-restarted-mid-bulk-run': redisRestartedMidBulkRun,
  'postgres-restarted-mid-run': postgresRestartedMidRun,
  'storage-full': storageFull,
}

/** Best effort: a cleanup step that fails (its service is gone) must not hide the scenario's result. */
async function quietly(step: () => Promise<unknown>): Promise<void> {
  await Promise.race([step().catch(() => {}), new Promise((r) => setTimeout(r, 5_000))])
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const name = process.argv[2] ?? ''
  const scenario = scenarios[name]
  if (!scenario) {
    console.error(`unknown scenario "${name}"; known: ${Object.keys(scenarios).join(', ')}`)
    process.exit(2)
  }
  const tally = new Tally(name)
  try {
    await scenario(tally)
  } catch (e) {
    tally.problem('broken', `the scenario threw: ${(e as Error).stack ?? String(e)}`)
  }
  await quietly(killWorkerProcesses)
  await quietly(removeCreatedTenants)
  await quietly(() => deleteQueueKeys(process.env.QUEUE_PREFIX ?? ''))
  await quietly(closeBulkQueue)
  await quietly(closeQueues)
  await quietly(closePool)
  await quietly(closeAdminClients)
  await quietly(closeDb)
  console.log(`CHAOS-RESULT ${JSON.stringify(tally.result())}`)
  process.exit(0)
}
