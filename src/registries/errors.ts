// Placeholder until the registries branch lands (its errors.ts replaces this file).
import { NixaError } from '../errors/index.js';

export class RegistryUnavailableError extends NixaError {
  readonly code = 'NIXA-REG-unavailable';
  override readonly status = 503;
  constructor(readonly reason: string) {
    super(`organisation registry unavailable: ${reason}`);
  }
}
