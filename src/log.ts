/** pino JSON logs. Secrets never reach a log line: known secret keys are redacted wherever they sit. */
import pino, { type Logger } from 'pino';
import type { LogLevel } from './config/types.js';

export const REDACT_PATHS = [
  'password', '*.password', 'token', '*.token', 'secret', '*.secret', 'authorization', '*.authorization',
  'headers.authorization', 'headers["lv-access"]', 'headers["lv-session"]', '*.headers.authorization',
  'sipPassword', '*.sipPassword', 'vendorPassword', '*.vendorPassword', 'attachToken', '*.attachToken',
];

export function createLogger(level: LogLevel, name: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { gw: name }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}
