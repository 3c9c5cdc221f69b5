// A software WebAuthn authenticator for HTTP tests: it makes the same registration
// and assertion responses a browser passes on from a real authenticator (ES256,
// "none" attestation), signed with a real key, so that nixa's checks run on
// genuine cryptography. It can also misbehave on purpose: sign for another
// origin, skip user verification, send a counter that goes backwards. Browser
// tests use Chromium's virtual authenticator instead (test/browser).
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

import { isoCBOR } from '@simplewebauthn/server/helpers';

const b64url = (b: Uint8Array | Buffer) => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

export interface Credential {
  id: Buffer;
  privateKey: KeyObject;
  publicKey: KeyObject;
  userHandle?: string;
  counter: number;
}

export interface CeremonyOptions {
  /** Where the browser says the ceremony happened (default: the authenticator's origin). */
  origin?: string;
  /** Whether the person was verified (PIN, biometric); default: as the authenticator can. */
  userVerified?: boolean;
  /** Override the counter sent (e.g. one that goes backwards). */
  counter?: number;
  /** Override the challenge signed (a tampered one). */
  challenge?: string;
  /** The RP ID whose hash goes into authenticator data (default: the authenticator's). */
  rpId?: string;
}

interface CreationOptions {
  challenge: string;
  rp: { id?: string };
  user: { id: string };
}

interface RequestOptions {
  challenge: string;
  rpId?: string;
  allowCredentials?: { id: string }[];
}

export class SoftwareAuthenticator {
  readonly credentials: Credential[] = [];

  constructor(
    readonly origin: string,
    readonly rpId: string,
    readonly canVerifyUser = true,
  ) {}

  /** navigator.credentials.create(): a new ES256 key, answered with "none" attestation. */
  register(options: CreationOptions, o: CeremonyOptions = {}) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const credential: Credential = { id: randomBytes(32), privateKey, publicKey, userHandle: options.user.id, counter: 0 };
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
    idLength.writeUInt16BE(credential.id.length);
    const authData = Buffer.concat([
      this.authDataHead(o, FLAG_AT, o.counter ?? 0),
      Buffer.alloc(16), // AAGUID: none given
      idLength,
      credential.id,
      Buffer.from(cose),
    ]);
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Map<string, string> | Uint8Array>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', new Uint8Array(authData)],
      ]),
    );
    this.credentials.push(credential);
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: 'public-key',
      response: {
        clientDataJSON: this.clientData('webauthn.create', o.challenge ?? options.challenge, o),
        attestationObject: b64url(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** navigator.credentials.get() with the first allowed credential this authenticator holds (or `credential`). */
  authenticate(options: RequestOptions, o: CeremonyOptions & { credential?: Credential } = {}) {
    const allowed = new Set((options.allowCredentials ?? []).map((c) => c.id));
    const credential = o.credential ?? this.credentials.find((c) => !allowed.size || allowed.has(b64url(c.id)));
    if (!credential) throw new Error('NotAllowedError: no credential for this request');
    const counter = o.counter ?? ++credential.counter;
    const authData = this.authDataHead(o, 0, counter);
    const clientDataJSON = this.clientData('webauthn.get', o.challenge ?? options.challenge, o);
    const signature = sign('sha256', Buffer.concat([authData, sha256(Buffer.from(clientDataJSON, 'base64url'))]), credential.privateKey);
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: 'public-key',
      response: {
        clientDataJSON,
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(credential.userHandle ? { userHandle: credential.userHandle } : {}),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  private authDataHead(o: CeremonyOptions, extraFlags: number, counter: number): Buffer {
    const uv = (o.userVerified ?? this.canVerifyUser) ? FLAG_UV : 0;
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([sha256(o.rpId ?? this.rpId), Buffer.from([FLAG_UP | uv | extraFlags]), count]);
  }

  private clientData(type: string, challenge: string, o: CeremonyOptions): string {
    return b64url(Buffer.from(JSON.stringify({ type, challenge, origin: o.origin ?? this.origin, crossOrigin: false })));
  }
}
