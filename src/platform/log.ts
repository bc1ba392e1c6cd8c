import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs to stdout; secrets never logged. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', 'password', 'token'],
      censor: '[redacted]',
    },
  });
}
