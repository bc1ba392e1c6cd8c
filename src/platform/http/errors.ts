import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_STATUS, type ErrorCode } from '../errors.js';
import { StoreError } from '../store/index.js';

interface ErrorAnswer {
  status: number;
  code: ErrorCode;
  message: string;
  field?: string;
  retryAfter?: number;
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_BAD_URL: 'invalid_request',
  FST_ERR_ASYNC_CONSTRAINT: 'invalid_request',
};

/** Maps anything thrown in a request to the error shape of api.md. */
export function toErrorAnswer(error: unknown): ErrorAnswer {
  if (error instanceof AppError) {
    const field = typeof error.details?.field === 'string' ? error.details.field : undefined;
    const retryAfter = typeof error.details?.retryAfter === 'number' ? error.details.retryAfter : undefined;
    return { status: error.status, code: error.code, message: error.message, field, retryAfter };
  }
  if (error instanceof StoreError) {
    if (error.kind === 'read_only') {
      return {
        status: 503,
        code: 'read_only',
        message: 'the site is read-only for now; try again later',
        retryAfter: 30,
      };
    }
    if (error.kind === 'unavailable' || error.kind === 'busy') {
      return {
        status: 503,
        code: 'store_unavailable',
        message: 'the database is unavailable; try again',
        retryAfter: 1,
      };
    }
    return internal();
  }
  const e = error as FastifyError & {
    validation?: { instancePath: string; message?: string; params?: Record<string, unknown> }[];
  };
  if (e.validation) {
    const first = e.validation[0];
    const missing = typeof first?.params?.missingProperty === 'string' ? first.params.missingProperty : '';
    const path = [first?.instancePath.replace(/^\//, '').replace(/\//g, '.'), missing].filter(Boolean).join('.');
    const where = e.validationContext ?? 'body';
    const field = path || where;
    return {
      status: 400,
      code: 'invalid_request',
      message: `${where}${path ? `.${path}` : ''} ${first?.message ?? 'is invalid'}`,
      field,
    };
  }
  const mapped = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (mapped) return { status: ERROR_STATUS[mapped], code: mapped, message: e.message };
  if (e instanceof SyntaxError || (e.statusCode === 400 && /JSON/i.test(e.message))) {
    return { status: 400, code: 'invalid_json', message: 'the body is not valid JSON' };
  }
  if (e.statusCode === 429) return { status: 429, code: 'rate_limited', message: e.message, retryAfter: 60 };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, code: e.statusCode === 404 ? 'not_found' : 'invalid_request', message: e.message };
  }
  return internal();
}

function internal(): ErrorAnswer {
  return { status: 500, code: 'internal_error', message: 'something went wrong on our side; it has been logged' };
}

export function sendError(reply: FastifyReply, answer: ErrorAnswer): FastifyReply {
  if (answer.retryAfter !== undefined && !reply.hasHeader('retry-after'))
    reply.header('retry-after', String(answer.retryAfter));
  const body: { code: string; message: string; field?: string } = { code: answer.code, message: answer.message };
  if (answer.field) body.field = answer.field;
  return reply.code(answer.status).send({ error: body });
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const answer = toErrorAnswer(error);
  if (answer.status >= 500)
    request.log.error({ err: error, reqId: request.id, url: request.url, method: request.method }, 'request failed');
  return sendError(reply, answer);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(reply, {
    status: 404,
    code: 'not_found',
    message: `no route ${request.method} ${request.url.split('?')[0]}`,
  });
}

/**
 * Requests Node's HTTP parser rejects before Fastify sees them (bad framing,
 * oversize headers, timeouts) still get the API's error shape.
 */
export function clientErrorHandler(error: Error & { code?: string; rawPacket?: unknown }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, code, reason]: [number, ErrorCode, string] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'Request Header Fields Too Large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'Request Timeout']
        : [400, 'malformed_request', 'Bad Request'];
  const body = JSON.stringify({
    error: { code, message: `the HTTP request could not be parsed (${error.code ?? 'unknown'})` },
  });
  // A HEAD request gets the headers of the answer without its body.
  const head = Buffer.isBuffer(error.rawPacket) && error.rawPacket.subarray(0, 5).toString('latin1') === 'HEAD ';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? '' : body}`,
  );
}
