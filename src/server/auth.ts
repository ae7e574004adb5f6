import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';

/** What a route needs: nothing (health), a read key, or a read-write key. */
export type Access = 'public' | 'read' | 'write';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required on every route; a route without it is treated as `write`. */
    access?: Access;
  }
}

export interface ApiKeys {
  /** Keys allowed on every route. */
  readWrite?: readonly string[];
  /** Keys allowed on read routes only (403 on writes). */
  readOnly?: readonly string[];
}

type Grant = 'read' | 'write';

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/**
 * Checks API keys given in the `api-key` header (Qdrant's) or as `Authorization: Bearer <key>`.
 * Keys are compared as SHA-256 digests with timingSafeEqual (equal lengths, constant time), and
 * every configured key is compared, so timing says nothing about which key nearly matched.
 */
export class KeyChecker {
  private readonly keys: { digest: Buffer; grant: Grant }[];

  constructor(keys: ApiKeys = {}) {
    this.keys = [
      ...(keys.readWrite ?? []).map((key) => ({ digest: digest(key), grant: 'write' as const })),
      ...(keys.readOnly ?? []).map((key) => ({ digest: digest(key), grant: 'read' as const })),
    ];
    for (const key of [...(keys.readWrite ?? []), ...(keys.readOnly ?? [])]) {
      if (key.length === 0) throw new TypeError('API keys must not be empty.');
    }
  }

  get enabled(): boolean {
    return this.keys.length > 0;
  }

  /** The grant of a presented key, or undefined for an unknown one. */
  grantOf(presented: string): Grant | undefined {
    const candidate = digest(presented);
    let grant: Grant | undefined;
    for (const key of this.keys) {
      if (timingSafeEqual(key.digest, candidate) && grant !== 'write') grant = key.grant;
    }
    return grant;
  }

  /** Throws 401 (no or unknown key) or 403 (read-only key on a write route); returns when allowed. */
  check(request: FastifyRequest, access: Access): void {
    if (!this.enabled || access === 'public') return;
    const presented = presentedKey(request);
    if (presented === undefined) {
      throw new HttpError(401, 'UNAUTHORIZED', 'An API key is required.', 'Send it in the "api-key" header or as "Authorization: Bearer <key>".');
    }
    const grant = this.grantOf(presented);
    if (grant === undefined) throw new HttpError(401, 'UNAUTHORIZED', 'The API key is not valid.');
    if (access === 'write' && grant !== 'write') {
      throw new HttpError(403, 'FORBIDDEN', 'This API key is read-only; the route writes.', 'Use a read-write key.');
    }
  }
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers['api-key'];
  const apiKey = Array.isArray(header) ? header[0] : header;
  if (apiKey !== undefined && apiKey.length > 0) return apiKey;
  const authorization = request.headers.authorization;
  if (authorization === undefined) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
  return match?.[1];
}
