// `npm run build:native`: compiles Atelier's one native addon, the JPEG
// encoder (app/modules/imaging/native/jpeg.c → native/build/jpeg.node beside
// it, docs/decisions/009), with the machine's C compiler against Node's own
// Node-API headers and the system's libjpeg-turbo. It takes about a second and is skipped when the
// addon is newer than its source; `npm run setup`, the test suites' global
// setup and `npm run bench` call it. Needs a C compiler and libjpeg-turbo's headers
// (Debian: gcc libjpeg62-turbo-dev; .ci/run installs them when missing).
// Without the addon post-processing encodes with sharp instead (JPEG_ENCODER).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dir = path.join(root, 'app', 'modules', 'imaging', 'native')
export const NATIVE_SOURCE = path.join(dir, 'jpeg.c')
export const NATIVE_ADDON = path.join(dir, 'build', 'jpeg.node')

export class NativeBuildError extends Error {}

/**
 * Node-API headers: the running Node's own include/node (official builds ship
 * it beside bin/; the npm `node` package in its node-<platform>-<arch>
 * package), else the system's. Node-API is ABI-stable, so any of them builds
 * an addon every Node since 12.22 loads.
 */
function nodeHeaders(): string {
  const prefix = path.resolve(path.dirname(process.execPath), '..')
  const candidates = [
    path.join(prefix, 'include', 'node'),
    path.join(prefix, 'node_modules', `node-${process.platform}-${process.arch}`, 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ]
  const found = candidates.find((dir) => existsSync(path.join(dir, 'node_api.h')))
  if (!found)
    throw new NativeBuildError(
      `no node_api.h in ${candidates.join(', ')}: this Node has no headers; install Node from nodejs.org or the npm \`node\` package`,
    )
  return found
}

/** Builds the addon unless it is newer than its source (or `force`); throws NativeBuildError with what to install. */
export function buildNative(opts: { force?: boolean; log?: (line: string) => void } = {}): 'built' | 'up to date' {
  const log = opts.log ?? (() => undefined)
  if (!opts.force && existsSync(NATIVE_ADDON) && statSync(NATIVE_ADDON).mtimeMs >= statSync(NATIVE_SOURCE).mtimeMs)
    return 'up to date'
  const include = nodeHeaders()
  mkdirSync(path.dirname(NATIVE_ADDON), { recursive: true })
  const partial = `${NATIVE_ADDON}.${process.pid}.tmp`
  const cc = process.env.CC || 'cc'
  const args = ['-O2', '-fPIC', '-shared', '-Wall', '-Wextra', '-I', include, NATIVE_SOURCE, '-ljpeg', '-o', partial]
  log(`${cc} ${args.join(' ')}`)
  const r = spawnSync(cc, args, { encoding: 'utf8' })
  if (r.error || r.status !== 0) {
    const why = r.error
      ? r.error.message
      : r.stderr.trim().split('\n').slice(-6).join('\n') || `${cc} exited with status ${r.status}`
    const hint = /jpeglib\.h/.test(why)
      ? ' (libjpeg-turbo headers missing: apt-get install libjpeg62-turbo-dev)'
      : r.error
        ? ' (no C compiler: apt-get install gcc libc6-dev)'
        : ''
    throw new NativeBuildError(`building the native JPEG encoder failed${hint}:\n${why}`)
  }
  // why a rename: a process loading the addon never sees a half-written file.
  renameSync(partial, NATIVE_ADDON)
  return 'built'
}

/**
 * buildNative for the callers that go on without the addon (setup, the test
 * suites' global setup, the bench runner): one line saying what happened.
 */
export function ensureNative(): string {
  try {
    return `native JPEG encoder: ${buildNative()}`
  } catch (err) {
    // why not fatal: without it final JPEGs are encoded by sharp, slower but the same files.
    if (!(err instanceof NativeBuildError)) throw err
    return `native JPEG encoder: not built, final JPEGs will be encoded by sharp. ${err.message}`
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const state = buildNative({ force: process.argv.includes('--force'), log: (l) => console.log(l) })
    console.log(`native JPEG encoder: ${state} (${path.relative(root, NATIVE_ADDON)})`)
  } catch (err) {
    console.error(err instanceof NativeBuildError ? err.message : err)
    process.exit(1)
  }
}
