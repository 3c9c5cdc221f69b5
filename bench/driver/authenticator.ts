// The passkey of a bench phone: a software WebAuthn authenticator making the
// answers a browser passes on from a platform authenticator (ES256, "none"
// attestation, user present and verified), signed with a real key, so that
// nixa's checks run on genuine cryptography while it is timed. The honest path
// only: test/support/authenticator.ts, which the build of bench/ cannot import,
// is the one that also misbehaves on purpose.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

import { isoCBOR } from '@simplewebauthn/server/helpers';

const b64url = (b: Uint8Array | Buffer) => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();

// User present, user verified; attested credential data (registration only).
const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

/** What navigator.credentials.create() reads from nixa's registration options. */
export interface CreationOptions {
  challenge: string;
  user: { id: string };
}

/** What navigator.credentials.get() reads from nixa's authentication options. */
export interface RequestOptions {
  challenge: string;
  allowCredentials?: { id: string }[];
}

export class BenchAuthenticator {
  #credential: { id: Buffer; privateKey: KeyObject; userHandle: string; counter: number } | undefined;

  constructor(
    readonly origin: string,
    readonly rpId: string,
  ) {}

  /** navigator.credentials.create(): a new ES256 key, answered with "none" attestation. */
  register(options: CreationOptions) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const id = randomBytes(32);
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
        [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
      ]),
    );
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(id.length);
    const authData = Buffer.concat([this.#authDataHead(FLAG_AT, 0), Buffer.alloc(16), idLength, id, Buffer.from(cose)]);
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Map<string, string> | Uint8Array>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', new Uint8Array(authData)],
      ]),
    );
    this.#credential = { id, privateKey, userHandle: options.user.id, counter: 0 };
    return {
      id: b64url(id),
      rawId: b64url(id),
      type: 'public-key',
      response: { clientDataJSON: this.#clientData('webauthn.create', options.challenge), attestationObject: b64url(attestationObject), transports: ['internal'] },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** navigator.credentials.get() with this authenticator's credential, which nixa must allow. */
  authenticate(options: RequestOptions) {
    const c = this.#credential;
    if (!c) throw new Error('NotAllowedError: this authenticator holds no credential yet');
    const allowed = (options.allowCredentials ?? []).map((a) => a.id);
    if (allowed.length && !allowed.includes(b64url(c.id))) throw new Error('NotAllowedError: nixa did not allow this phone’s credential');
    c.counter += 1;
    const authData = this.#authDataHead(0, c.counter);
    const clientDataJSON = this.#clientData('webauthn.get', options.challenge);
    const signature = sign('sha256', Buffer.concat([authData, sha256(Buffer.from(clientDataJSON, 'base64url'))]), c.privateKey);
    return {
      id: b64url(c.id),
      rawId: b64url(c.id),
      type: 'public-key',
      response: { clientDataJSON, authenticatorData: b64url(authData), signature: b64url(signature), userHandle: c.userHandle },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  #authDataHead(extraFlags: number, counter: number): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([sha256(this.rpId), Buffer.from([FLAG_UP | FLAG_UV | extraFlags]), count]);
  }

  #clientData(type: string, challenge: string): string {
    return b64url(Buffer.from(JSON.stringify({ type, challenge, origin: this.origin, crossOrigin: false })));
  }
}
