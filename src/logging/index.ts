// Structured JSON logs. Redaction is a safety net: code must not pass tokens,
// codes, secrets or key material to the logger in the first place.
import { pino, type Logger } from 'pino';

export type { Logger };

const SECRET_FIELDS = [
  'password', 'secret', 'client_secret', 'clientSecret', 'token', 'access_token', 'refresh_token',
  'id_token', 'code', 'code_verifier', 'authorization', 'cookie', 'd', 'p', 'q', 'dp', 'dq', 'qi', 'k',
  'private', 'privateJwk', 'masterKey', 'national_id', 'nationalId',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'nixa' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          ...SECRET_FIELDS,
          ...SECRET_FIELDS.map((f) => `*.${f}`),
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
        ],
        censor: '[redacted]',
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** A logger that writes nothing, for CLI runs and tests that do not look at logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
