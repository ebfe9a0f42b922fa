// The server half of RFC 6455, just enough for ComfyUI's /ws: the opening
// handshake over node:http's 'upgrade', unmasked text and binary frames out,
// masked frames in (text, ping, close, fragments). ComfyUI itself uses
// aiohttp's WebSocketResponse; clients only see standard frames either way.
import { createHash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'

const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024

const OP_CONTINUATION = 0x0
const OP_TEXT = 0x1
const OP_BINARY = 0x2
const OP_CLOSE = 0x8
const OP_PING = 0x9
const OP_PONG = 0xa

export interface FakeWebSocket {
  readonly url: URL
  readonly isOpen: boolean
  sendText(text: string): void
  sendBinary(data: Buffer): void
  /** A clean close: close frame, then the TCP connection ends. */
  close(code?: number, reason?: string): void
  /** A network cut: the connection drops with no close frame. */
  destroy(): void
  onText: (text: string) => void
  onClose: () => void
}

/** Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 §4.2.2). */
export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + HANDSHAKE_GUID)
    .digest('base64')
}

function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length
  let header: Buffer
  if (length < 126) {
    header = Buffer.from([0x80 | opcode, length])
  } else if (length < 65536) {
    header = Buffer.alloc(4)
    header[0] = 0x80 | opcode
    header[1] = 126
    header.writeUInt16BE(length, 2)
  } else {
    header = Buffer.alloc(10)
    header[0] = 0x80 | opcode
    header[1] = 127
    header.writeBigUInt64BE(BigInt(length), 2)
  }
  return Buffer.concat([header, payload])
}

/**
 * Completes the handshake on an 'upgrade' request, or answers 400 and returns
 * undefined when the request is not a version-13 WebSocket upgrade.
 */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer): FakeWebSocket | undefined {
  const key = req.headers['sec-websocket-key']
  const upgrade = req.headers.upgrade?.toLowerCase()
  if (upgrade !== 'websocket' || typeof key !== 'string' || req.headers['sec-websocket-version'] !== '13') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    return undefined
  }
  socket.write(
    [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${acceptKey(key)}`,
      '',
      '',
    ].join('\r\n'),
  )
  if ('setNoDelay' in socket && typeof socket.setNoDelay === 'function') socket.setNoDelay(true)

  let open = true
  let closeSent = false
  let buffered: Buffer = head.length > 0 ? Buffer.from(head) : Buffer.alloc(0)
  let fragments: Buffer[] = []
  let fragmentOpcode = 0

  const ws: FakeWebSocket = {
    url: new URL(req.url ?? '/', 'http://fake'),
    get isOpen() {
      return open
    },
    sendText(text) {
      if (open && !closeSent) socket.write(encodeFrame(OP_TEXT, Buffer.from(text, 'utf8')))
    },
    sendBinary(data) {
      if (open && !closeSent) socket.write(encodeFrame(OP_BINARY, data))
    },
    close(code = 1000, reason = '') {
      if (!open || closeSent) return
      closeSent = true
      const payload = Buffer.alloc(2 + Buffer.byteLength(reason))
      payload.writeUInt16BE(code, 0)
      payload.write(reason, 2)
      socket.write(encodeFrame(OP_CLOSE, payload))
      socket.end()
    },
    destroy() {
      socket.destroy()
    },
    onText: () => undefined,
    onClose: () => undefined,
  }

  const finish = () => {
    if (!open) return
    open = false
    ws.onClose()
  }

  const protocolError = (code: number) => {
    ws.close(code)
    finish()
  }

  const handleFrame = (fin: boolean, opcode: number, payload: Buffer) => {
    if (opcode === OP_PING) {
      if (!closeSent) socket.write(encodeFrame(OP_PONG, payload))
      return
    }
    if (opcode === OP_PONG) return
    if (opcode === OP_CLOSE) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1000
      ws.close(code)
      finish()
      return
    }
    if (opcode === OP_TEXT || opcode === OP_BINARY) {
      if (fragments.length > 0) return protocolError(1002)
      if (fin) {
        if (opcode === OP_TEXT) ws.onText(payload.toString('utf8'))
        return
      }
      fragmentOpcode = opcode
      fragments = [payload]
      return
    }
    if (opcode === OP_CONTINUATION) {
      if (fragments.length === 0) return protocolError(1002)
      fragments.push(payload)
      if (!fin) return
      const whole = Buffer.concat(fragments)
      fragments = []
      if (fragmentOpcode === OP_TEXT) ws.onText(whole.toString('utf8'))
      return
    }
    protocolError(1002)
  }

  const parse = () => {
    while (open && buffered.length >= 2) {
      const fin = (buffered[0] & 0x80) !== 0
      const opcode = buffered[0] & 0x0f
      const masked = (buffered[1] & 0x80) !== 0
      let length = buffered[1] & 0x7f
      let offset = 2
      if (length === 126) {
        if (buffered.length < 4) return
        length = buffered.readUInt16BE(2)
        offset = 4
      } else if (length === 127) {
        if (buffered.length < 10) return
        const big = buffered.readBigUInt64BE(2)
        if (big > BigInt(MAX_MESSAGE_BYTES)) return protocolError(1009)
        length = Number(big)
        offset = 10
      }
      // RFC 6455 §5.1: a server MUST close the connection on an unmasked client frame.
      if (!masked) return protocolError(1002)
      if (length > MAX_MESSAGE_BYTES) return protocolError(1009)
      if (buffered.length < offset + 4 + length) return
      const mask = buffered.subarray(offset, offset + 4)
      const payload = Buffer.from(buffered.subarray(offset + 4, offset + 4 + length))
      for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3]
      buffered = buffered.subarray(offset + 4 + length)
      handleFrame(fin, opcode, payload)
    }
  }

  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
    parse()
  })
  socket.on('close', finish)
  // why: a reset connection is an ordinary end of a socket here, not a crash.
  socket.on('error', finish)
  if (buffered.length > 0) queueMicrotask(parse)
  return ws
}
