// What nixa asks an organisation registry, and what it accepts as an answer: the
// one HTTP contract every registry nixa is registered with speaks (the simulated
// business registry in src/simulated-registry implements it; a real registry
// sits behind an adapter that speaks it). Pure types and validation, no I/O.
//
//   POST {api_url}/v1/representations
//   Authorization: Bearer <access token from the registry's token endpoint,
//                          OAuth client_credentials, scope "representation.read">
//   Content-Type: application/json
//   { "national_id": "001085004217" }                       every organisation
//   { "national_id": "001085004217", "enterprise_code": "0101234567" }   one
//
//   200 { "checked_at": "2026-12-03T14:00:00Z", "organisations": [Organisation…] }
//   (an unknown person or enterprise: 200 with an empty list — not a 404 that
//   a misrouted request could also produce)
//
// The national ID travels in the body, never the URL, so that no proxy or access
// log along the way records it.
import { z } from 'zod';

/** Mã số doanh nghiệp: ten digits (the first two name the province that registered it). */
export const ENTERPRISE_CODE = /^\d{10}$/;

export const ORGANISATION_STATUSES = ['active', 'suspended', 'dissolved'] as const;
export type OrganisationStatus = (typeof ORGANISATION_STATUSES)[number];

/**
 * Why a person may act for an organisation: as its legal representative
 * (người đại diện theo pháp luật), or under a mandate (giấy ủy quyền) the legal
 * representative gave for named tasks until a date.
 */
export const REPRESENTATION_ROLES = ['legal_representative', 'mandate'] as const;
export type RepresentationRole = (typeof REPRESENTATION_ROLES)[number];

/** Tasks a mandate names. A registry may know more; nixa shows these by name and others by their code. */
export const MANDATE_TASKS = ['tax_filing', 'social_insurance', 'customs', 'business_registration', 'invoices'] as const;

const task = z.string().regex(/^[a-z][a-z0-9_]{1,39}$/, 'a task code (lowercase letters, digits, _)');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');

export const organisationSchema = z
  .object({
    enterprise_code: z.string().regex(ENTERPRISE_CODE, 'ten digits'),
    name_vi: z.string().trim().min(1).max(300),
    name_en: z.string().trim().min(1).max(300).nullable().optional(),
    status: z.enum(ORGANISATION_STATUSES),
    role: z.enum(REPRESENTATION_ROLES),
    /** For a mandate: the tasks it covers (at least one). */
    tasks: z.array(task).max(50).optional(),
    /** For a mandate: its last valid day (inclusive). A legal representative has none. */
    valid_until: isoDate.nullable().optional(),
  })
  .strip()
  .refine((o) => o.role !== 'mandate' || (o.tasks?.length ?? 0) > 0, { message: 'a mandate names its tasks', path: ['tasks'] });

export type Organisation = z.infer<typeof organisationSchema>;

export const representationsAnswerSchema = z
  .object({
    checked_at: z.iso.datetime({ offset: true }),
    organisations: z.array(organisationSchema).max(200),
  })
  .strip();

export type RepresentationsAnswer = z.infer<typeof representationsAnswerSchema>;

/** The scope nixa asks a registry's token endpoint for. */
export const REGISTRY_SCOPE = 'representation.read';

/** The path of the one call, under the registry's api_url. */
export const REPRESENTATIONS_PATH = '/v1/representations';

/**
 * What nixa learned from a registry for one person: the answer, with the
 * registry that gave it. The rest of nixa depends on this, not on HTTP.
 */
export interface RepresentationLookup {
  registry: { id: string; name: { vi: string; en: string } };
  checkedAt: string;
  organisations: Organisation[];
}

/**
 * The port nixa's sign-in uses to ask registries (src/registries implements it
 * over HTTP; tests may pass their own). Throws RegistryUnavailableError (src/registries) when no
 * registry could answer usably.
 */
export interface OrganisationRegistries {
  /** Every organisation the person may act for, from every enabled registry. */
  lookup(nationalId: string): Promise<RepresentationLookup[]>;
  /** One organisation again (re-check at refresh), at the registry that vouched for it. */
  recheck(registryId: string, nationalId: string, enterpriseCode: string): Promise<RepresentationLookup>;
}
