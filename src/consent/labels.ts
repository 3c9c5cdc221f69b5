// The words a citizen reads for each claim, Vietnamese and English: the consent
// page and the list of consents on /account say the same thing about the same claim.

/** In the order a person reads their details, not alphabetically. */
export const CLAIM_LABELS: Readonly<Record<string, { vi: string; en: string }>> = Object.freeze({
  name: { vi: 'Họ và tên', en: 'Full name' },
  birthdate: { vi: 'Ngày sinh', en: 'Date of birth' },
  gender: { vi: 'Giới tính', en: 'Gender' },
  place_of_origin: { vi: 'Quê quán', en: 'Place of origin' },
  address: { vi: 'Nơi thường trú', en: 'Permanent address' },
  phone_number: { vi: 'Số điện thoại', en: 'Phone number' },
  national_id: { vi: 'Số định danh cá nhân', en: 'Personal identification number' },
});

/** The label of a claim; a claim without one is shown by its name rather than hidden. */
export const claimLabel = (claim: string): { vi: string; en: string } =>
  Object.hasOwn(CLAIM_LABELS, claim) ? CLAIM_LABELS[claim]! : { vi: claim, en: claim };

/** Claims in reading order (see CLAIM_LABELS), unlabelled ones last. */
export function inReadingOrder(claims: readonly string[]): string[] {
  const order = Object.keys(CLAIM_LABELS);
  const rank = (c: string) => (order.includes(c) ? order.indexOf(c) : Number.MAX_SAFE_INTEGER);
  return [...claims].sort((a, b) => rank(a) - rank(b));
}
