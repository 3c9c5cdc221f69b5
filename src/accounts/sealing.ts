// The ID number is the one attribute encrypted at rest: it is the key to a person
// across every public service. Each envelope is bound to its account and attribute.
import type { Cipher } from '../keys/index.js';
import type { StoredAttribute } from './linking.js';

export const sealed = (c: Cipher, accountId: string, a: StoredAttribute) =>
  a.name === 'national_id' ? `enc:${c.encrypt(a.value, `attr:${accountId}:national_id`).toString('base64')}` : a.value;

export const unsealed = (c: Cipher, accountId: string, name: string, stored: string) =>
  stored.startsWith('enc:') ? c.decrypt(Buffer.from(stored.slice(4), 'base64'), `attr:${accountId}:${name}`) : stored;
