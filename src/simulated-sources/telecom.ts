// A mobile operator (nhà mạng), simulated: low assurance (an SMS code), but it
// knows the CCCD number each SIM is registered to, which lets nixa link people.
import type { TestCitizen } from './citizens.js';
import type { SourceProfile } from './profiles.js';

export const telecomSource: SourceProfile = {
  kind: 'telecom',
  name: { vi: 'Nhà mạng', en: 'Telecom, simulated' },
  scope: 'phone',
  claimNames: ['phone_number', 'phone_number_verified', 'subscriber_id_number'],
  acr: 'urn:vn:telco:loa:low',
  amr: ['sms'],
  subjectPrefix: 'telco-',
  theme: 'source-telecom',
  // Every seeded citizen has a SIM, including bui-thi-lan whom no other source knows.
  knows: () => true,
  claims: (c: TestCitizen) => ({
    phone_number: c.phoneNumber,
    phone_number_verified: true,
    subscriber_id_number: c.nationalId,
  }),
  describe: (c: TestCitizen) => ({
    vi: `Số thuê bao ${c.phoneNumber}`,
    en: `Subscriber ${c.phoneNumber}`,
  }),
};
