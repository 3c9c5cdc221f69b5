// The registry's records as they stand (the seed, as changed by a test or demo:
// a mandate withdrawn, a status changed), and the one question it answers: what
// may this person act for today. Pure, no I/O.
import { InvalidInputError } from '../errors/index.js';
import { ENTERPRISE_CODE, ORGANISATION_STATUSES, type Organisation, type OrganisationStatus } from '../registries/contract.js';
import { SEEDED_ENTERPRISES, type SeededEnterprise, type SeededMandate } from './seed.js';

interface Enterprise extends Omit<SeededEnterprise, 'mandates'> {
  mandates: SeededMandate[];
}

/** Vietnam's calendar day (UTC+7, no daylight saving) at `now`, YYYY-MM-DD: a mandate is valid through its last day there. */
export function vietnamDate(now: Date): string {
  return new Date(now.getTime() + 7 * 3600_000).toISOString().slice(0, 10);
}

export class RegistryRecords {
  #enterprises = new Map<string, Enterprise>();

  constructor() {
    this.reset();
  }

  /** Back to the seed. */
  reset(): void {
    this.#enterprises = new Map(SEEDED_ENTERPRISES.map((e) => [e.enterpriseCode, { ...e, mandates: [...e.mandates] }]));
  }

  /**
   * Every organisation the person may act for on `today` (YYYY-MM-DD), one entry
   * per role (legal representative, or each mandate still valid), whatever the
   * organisation's status: a dissolved company is answered as dissolved, and it
   * is nixa that refuses it.
   */
  representationsOf(nationalId: string, today: string, enterpriseCode?: string): Organisation[] {
    const found: Organisation[] = [];
    for (const e of this.#enterprises.values()) {
      if (enterpriseCode !== undefined && e.enterpriseCode !== enterpriseCode) continue;
      const names = { enterprise_code: e.enterpriseCode, name_vi: e.nameVi, name_en: e.nameEn, status: e.status };
      if (e.legalRepresentatives.some((r) => r.nationalId === nationalId)) found.push({ ...names, role: 'legal_representative', valid_until: null });
      for (const m of e.mandates) {
        if (m.nationalId === nationalId && m.validUntil >= today) found.push({ ...names, role: 'mandate', tasks: [...m.tasks], valid_until: m.validUntil });
      }
    }
    return found;
  }

  /** The legal representative withdraws every mandate the enterprise gave this person. */
  withdrawMandate(nationalId: string, enterpriseCode: string): void {
    const e = this.#enterprise(enterpriseCode);
    const kept = e.mandates.filter((m) => m.nationalId !== nationalId);
    if (kept.length === e.mandates.length) throw new InvalidInputError('national_id', `${enterpriseCode} gave this person no mandate`);
    e.mandates = kept;
  }

  setStatus(enterpriseCode: string, status: OrganisationStatus): void {
    if (!(ORGANISATION_STATUSES as readonly string[]).includes(status)) {
      throw new InvalidInputError('status', `one of ${ORGANISATION_STATUSES.join(', ')}`);
    }
    this.#enterprise(enterpriseCode).status = status;
  }

  #enterprise(code: string): Enterprise {
    const e = ENTERPRISE_CODE.test(code) ? this.#enterprises.get(code) : undefined;
    if (!e) throw new InvalidInputError('enterprise_code', `no enterprise ${code} in the simulated registry`);
    return e;
  }
}
