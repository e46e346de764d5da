import { SignJWT } from 'jose';
import { envString } from './config';

/** Development tokens (HS256) for `npm run token`, the demo and tests. */
export const DEV_JWT_SECRET = 'paygraph-dev-secret-do-not-use-in-production';
export const DEFAULT_ISSUER = 'paygraph-dev';
export const DEFAULT_AUDIENCE = 'paygraph';

export interface DevTokenClaims {
  sub: string;
  scope: string;
  customerId?: string;
  /** Lifetime in seconds (default one day). */
  expiresIn?: number;
}

export async function signDevToken(claims: DevTokenClaims): Promise<string> {
  const secret = new TextEncoder().encode(envString('JWT_SECRET', DEV_JWT_SECRET));
  const jwt = new SignJWT({ scope: claims.scope, ...(claims.customerId ? { customer_id: claims.customerId } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuer(envString('JWT_ISSUER', DEFAULT_ISSUER))
    .setAudience(envString('JWT_AUDIENCE', DEFAULT_AUDIENCE))
    .setIssuedAt()
    .setExpirationTime(`${claims.expiresIn ?? 86_400}s`);
  return jwt.sign(secret);
}

/** Every scope: the demo operator. */
export const ALL_SCOPES = 'accounts:read accounts:write payments:read payments:write payments:approve risk:review compliance:review ops:admin';
