import type { Server } from 'node:http';

const ANSWERS: Record<string, [status: number, reason: string, code: string, message: string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'HEADERS_TOO_LARGE', 'Request headers are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'REQUEST_TIMEOUT', 'The request did not arrive in time'],
};
const MALFORMED: [number, string, string, string] = [400, 'Bad Request', 'INVALID_REQUEST', 'Malformed HTTP request'];

/**
 * Requests that Node's HTTP parser refuses (malformed request lines or chunk framing, a
 * Content-Length that does not fit, headers over the size limit, headers that stall) get an
 * answer in the same JSON error shape as everything else, instead of a bare status line or a
 * silent close — also when the request was already handed to the app and its answer has not
 * started (a body whose framing breaks midway). The connection is closed after it.
 */
export function answerClientErrorsAsJson(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (!socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, reason, code, message] = ANSWERS[error.code ?? ''] ?? MALFORMED;
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    // A peer that does not read its answer does not keep the socket.
    setTimeout(() => socket.destroy(), 5000).unref();
  });
}
