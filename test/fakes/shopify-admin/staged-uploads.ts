// The staged upload target, behaving like Google Cloud Storage behind
// Shopify's signed targets. POST: a multipart form with every returned
// parameter as a field and the file last — GCS ignores form fields after the
// file, so a parameter sent after it counts as missing and the upload is
// refused with 400. PUT: the raw bytes to the signed url.
import { createHash } from 'node:crypto'
import type { HttpResult } from './graphql-endpoint.ts'
import { sha256 } from './ids.ts'
import type { StagedUploadRecord } from './store.ts'

const MAX_BYTES = 20 * 1024 * 1024

function gcsError(status: number, code: string, message: string, details: string): HttpResult {
  return {
    status,
    body: `<?xml version='1.0' encoding='UTF-8'?><Error><Code>${code}</Code><Message>${message}</Message><Details>${details}</Details></Error>`,
    headers: { 'Content-Type': 'application/xml; charset=UTF-8' },
  }
}

export async function handleStagedPost(
  staged: StagedUploadRecord,
  contentType: string | undefined,
  raw: Buffer,
): Promise<HttpResult> {
  if (staged.httpMethod !== 'POST')
    return gcsError(
      405,
      'MethodNotAllowed',
      'The specified method is not allowed against this resource.',
      'This target expects PUT.',
    )
  if (!contentType?.toLowerCase().startsWith('multipart/form-data')) {
    return gcsError(400, 'InvalidArgument', 'Invalid argument.', 'POST object expects Content-Type multipart/form-data')
  }
  let form: FormData
  try {
    form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData()
  } catch {
    return gcsError(400, 'InvalidArgument', 'Invalid argument.', 'Could not parse the multipart form')
  }
  const fields = new Map<string, string>()
  let file: File | null = null
  for (const [name, value] of form.entries()) {
    if (typeof value !== 'string') {
      if (name === 'file') {
        file = value
        break
      }
      continue
    }
    fields.set(name, value)
  }
  if (!file) return gcsError(400, 'InvalidArgument', 'Invalid argument.', 'Missing file: the form must end with a "file" part')
  for (const { name, value } of staged.parameters) {
    if (!fields.has(name)) {
      return gcsError(
        400,
        'InvalidPolicyDocument',
        'The content of the form does not meet the conditions specified in the policy document.',
        `Missing ${name}`,
      )
    }
    if (fields.get(name) !== value) {
      return gcsError(
        400,
        'InvalidPolicyDocument',
        'The content of the form does not meet the conditions specified in the policy document.',
        `Policy did not reference these fields: ${name}`,
      )
    }
  }
  const bytes = Buffer.from(await file.arrayBuffer())
  if (bytes.length < 1)
    return gcsError(
      400,
      'EntityTooSmall',
      'Your proposed upload is smaller than the minimum object size specified in your Policy Document.',
      'Content-length smaller than lower bound on range',
    )
  if (bytes.length > MAX_BYTES)
    return gcsError(
      400,
      'EntityTooLarge',
      'Your proposed upload is larger than the maximum object size specified in your Policy Document.',
      'Content-length exceeds upper bound on range',
    )
  staged.uploaded = { bytes, sha256: sha256(bytes), contentType: fields.get('Content-Type') ?? null }
  const key = fields.get('key') ?? ''
  const etag = createHash('md5').update(bytes).digest('hex')
  return {
    status: 201,
    body: `<?xml version="1.0" encoding="UTF-8"?><PostResponse><Location>${staged.resourceUrl}</Location><Bucket>shopify-staged-uploads</Bucket><Key>${key}</Key><ETag>"${etag}"</ETag></PostResponse>`,
    headers: { 'Content-Type': 'application/xml; charset=UTF-8', ETag: `"${etag}"` },
  }
}

export function handleStagedPut(staged: StagedUploadRecord, contentType: string | undefined, raw: Buffer): HttpResult {
  if (staged.httpMethod !== 'PUT')
    return gcsError(
      405,
      'MethodNotAllowed',
      'The specified method is not allowed against this resource.',
      'This target expects a multipart POST.',
    )
  if (raw.length > MAX_BYTES)
    return gcsError(
      400,
      'EntityTooLarge',
      'Your proposed upload is larger than the maximum object size.',
      'Content-length exceeds upper bound',
    )
  staged.uploaded = { bytes: raw, sha256: sha256(raw), contentType: contentType ?? null }
  return { status: 200, body: '', headers: { ETag: `"${createHash('md5').update(raw).digest('hex')}"` } }
}
