import type { Server } from 'node:http';

/**
 * Requests that Node's HTTP parser refuses before any application code runs (malformed
 * request lines, a Content-Length that does not fit, headers over the size limit) get an answer
 * in the same JSON error shape as everything else, instead of a bare status line.
 */
export function answerClientErrorsAsJson(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (socket as { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : 400;
    const body = JSON.stringify({
      error: tooLarge
        ? { code: 'HEADERS_TOO_LARGE', message: 'Request headers are too large' }
        : { code: 'INVALID_REQUEST', message: 'Malformed HTTP request' },
    });
    socket.end(
      `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
