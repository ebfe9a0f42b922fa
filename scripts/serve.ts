// `npm start` (built app) / `npm run dev` (Vite dev server). `--with-worker`
// also runs all background work in this process (handy on a laptop).
import { existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { env } from '#app/lib/env.server.ts'
import { startWebServer } from '#app/lib/server.server.ts'
import { startBackgroundWorkOrExit, stopOnSignals } from '#app/runtime.server.ts'

const args = new Set(process.argv.slice(2))
const dev = args.has('--dev')
if (!dev && !existsSync('build/server/index.js')) {
  console.log('No build found: building the app once (npm run build) ...')
  const r = spawnSync('npx', ['remix', 'vite:build'], { stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}
const work = args.has('--with-worker') ? await startBackgroundWorkOrExit() : undefined
const server = await startWebServer({ dev })
console.log(`Atelier (${env().APP_MODE} mode) is serving at ${server.url}/app`)

stopOnSignals({
  name: work ? 'web server and background work' : 'web server',
  // why the server first: its requests use the queues and the database the background work closes.
  async stop() {
    await server.close()
    await work?.close()
  },
  left: () => (work ? work.left() : 'open requests or connections'),
})
