// Makes the real Shopify Admin API schema available offline: Shopify's own npm
// package @shopify/dev-mcp ships introspection results per API version. We take
// the one file we need from its tarball (npm pack) instead of installing the
// package and its large dependency tree. Output: .cache/shopify/admin_<v>.json
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'

export const DEV_MCP_VERSION = '1.16.0'
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

export function adminSchemaPath(apiVersion: string): string {
  return path.join(root, '.cache', 'shopify', `admin_${apiVersion}.json`)
}

/** Returns the path of the introspection JSON, fetching it from the npm registry once. */
export function ensureAdminSchema(apiVersion: string): string {
  const target = adminSchemaPath(apiVersion)
  if (existsSync(target)) return target
  mkdirSync(path.dirname(target), { recursive: true })
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'shopify-schema-'))
  try {
    const tarball = execFileSync('npm', ['pack', `@shopify/dev-mcp@${DEV_MCP_VERSION}`, '--silent', '--pack-destination', tmp], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .pop()!
    const member = `package/dist/data/admin_${apiVersion}.json.gz`
    execFileSync('tar', ['-xzf', path.join(tmp, tarball), '-C', tmp, member])
    const json = gunzipSync(readFileSync(path.join(tmp, member)))
    JSON.parse(json.toString('utf8')) // fail here, not in a test, if it is not JSON
    writeFileSync(`${target}.tmp`, json)
    renameSync(`${target}.tmp`, target)
    return target
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const version = process.argv[2] ?? '2026-10'
  console.log(ensureAdminSchema(version))
}
