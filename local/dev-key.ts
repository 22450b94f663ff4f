/**
 * The development signing key: created once per checkout in .local/ (git-ignored), shared by the local
 * server and `npm run token`. Deployed functions refuse it (see functions/http/tokens.ts).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { LOCAL_ISSUER } from '../functions/http/tokens';

export const LOCAL_AUDIENCE = 'child-protection-sharing';
const KEY_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '.local',
  'dev-signing-key.json',
);

interface DevKey {
  privateJwk: JWK;
  publicJwk: JWK;
}

let cached: Promise<DevKey> | undefined;

async function createOrRead(): Promise<DevKey> {
  try {
    return JSON.parse(await readFile(KEY_FILE, 'utf8')) as DevKey;
  } catch {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const key: DevKey = { privateJwk: await exportJWK(privateKey), publicJwk: await exportJWK(publicKey) };
    await mkdir(path.dirname(KEY_FILE), { recursive: true });
    try {
      await writeFile(KEY_FILE, JSON.stringify(key), { flag: 'wx', mode: 0o600 });
      return key;
    } catch {
      return JSON.parse(await readFile(KEY_FILE, 'utf8')) as DevKey; // another process won the race
    }
  }
}

export function devKey(): Promise<DevKey> {
  cached ??= createOrRead();
  return cached;
}

export interface DevTokenClaims {
  sub: string;
  name: string;
  org: string;
  role: string;
  activities?: string[];
  setting?: string;
  roleName?: string;
  orgName?: string;
}

export async function signDevToken(
  claims: DevTokenClaims,
  options: {
    ttlSeconds?: number;
    issuer?: string;
    audience?: string;
    issuedAt?: number;
    notBefore?: number;
  } = {},
): Promise<string> {
  const { privateJwk } = await devKey();
  const key = await importJWK(privateJwk, 'ES256');
  const now = Math.floor(Date.now() / 1000);
  const issuedAt = options.issuedAt ?? now;
  const jwt = new SignJWT({
    name: claims.name,
    org: claims.org,
    role: claims.role,
    ...(claims.activities?.length ? { activities: claims.activities } : {}),
    ...(claims.setting ? { setting: claims.setting } : {}),
    ...(claims.roleName ? { roleName: claims.roleName } : {}),
    ...(claims.orgName ? { orgName: claims.orgName } : {}),
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(options.issuer ?? LOCAL_ISSUER)
    .setAudience(options.audience ?? LOCAL_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + (options.ttlSeconds ?? 3600));
  if (options.notBefore !== undefined) jwt.setNotBefore(options.notBefore);
  return jwt.sign(key);
}
