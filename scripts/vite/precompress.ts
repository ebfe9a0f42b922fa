// A Vite plugin: after a client build, writes brotli (.br) and gzip (.gz)
// copies of the text assets beside them, at the highest settings, once. The
// web server sends them to browsers that accept them (app/lib/precompressed.server.ts).
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { brotliCompress, constants, gzip } from 'node:zlib'
import type { Plugin } from 'vite'

const TEXT = /\.(js|mjs|css|svg|json|txt|map)$/
/** Smaller files gain less than the header costs. */
const MIN_BYTES = 1024

const br = promisify(brotliCompress)
const gz = promisify(gzip)

export function precompress(): Plugin {
  let outDir = ''
  let ssr = false
  return {
    name: 'atelier-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir)
      ssr = !!config.build.ssr
    },
    async closeBundle() {
      if (ssr) return
      await compressTree(outDir)
    },
  }
}

export async function compressTree(dir: string): Promise<number> {
  let written = 0
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) written += await compressTree(file)
    else if (TEXT.test(entry.name) && (await stat(file)).size >= MIN_BYTES) {
      const body = await readFile(file)
      await writeFile(
        `${file}.br`,
        await br(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }),
      )
      await writeFile(`${file}.gz`, await gz(body, { level: 9 }))
      written += 1
    }
  }
  return written
}
