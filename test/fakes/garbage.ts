import type http from 'node:http'

// What a server that is not the vendor's API answers with 200: a web page
// (another app or a proxy's landing page on that port), bytes that are not
// JSON, or JSON of some other service. Every fake can be switched to it.

export type GarbageKind = 'html' | 'not_json' | 'other_json'

const BODIES: Record<GarbageKind, { type: string; body: string }> = {
  html: { type: 'text/html; charset=utf-8', body: '<!doctype html><html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1></body></html>' },
  not_json: { type: 'application/json', body: '\u0000{"prompt_id": <<garbage>> \ufffd' },
  other_json: { type: 'application/json', body: '{"status":"ok","service":"grafana","version":"10.4.1"}' },
}

/** Answers the request with the garbage of that kind; returns the status sent. */
export function answerGarbage(req: http.IncomingMessage, res: http.ServerResponse, kind: GarbageKind): number {
  req.resume()
  const { type, body } = BODIES[kind]
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) })
  res.end(body)
  return 200
}
