import { PassThrough } from 'node:stream';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Database } from '../../engine/database.js';
import { CollectionParams, errorResponses } from '../schemas.js';

export interface OpsRoutesOptions {
  db: Database;
}

const tags = ['operations'];

const Problem = Type.Object({ code: Type.String(), message: Type.String(), repairable: Type.Boolean() });

const VerifyBody = Type.Object(
  {
    collections: Type.Optional(Type.Array(Type.String(), { description: 'Collections to check (default: all).' })),
    repair: Type.Optional(Type.Boolean({ description: 'Rebuild derived data from the records, then check again.' })),
  },
  { additionalProperties: false },
);

const VerifyResponse = Type.Object({
  ok: Type.Boolean(),
  folder: Type.Object({ problems: Type.Array(Problem), found: Type.Array(Problem), repaired: Type.Integer() }),
  collections: Type.Array(
    Type.Object({
      name: Type.String(),
      ok: Type.Boolean(),
      records: Type.Integer(),
      documents: Type.Integer(),
      labels: Type.Integer(),
      checkpointLabels: Type.Union([Type.Integer(), Type.Null()]),
      problems: Type.Array(Problem),
      found: Type.Array(Problem),
      repaired: Type.Array(Type.String()),
    }),
  ),
});

const CompactResponse = Type.Object({
  collection: Type.String(),
  records: Type.Integer(),
  dropped: Type.Integer(),
  bytesBefore: Type.Integer(),
  bytesAfter: Type.Integer(),
  indexBytesBefore: Type.Integer(),
  indexBytesAfter: Type.Integer(),
  index: Type.String(),
  ms: Type.Integer(),
});

const BackupBody = Type.Object(
  {
    collections: Type.Optional(Type.Array(Type.String(), { description: 'Collections to back up (default: all).' })),
    include_indexes: Type.Optional(Type.Boolean({ description: 'Include index checkpoints (default true) so a restore needs no rebuild.' })),
  },
  { additionalProperties: false },
);

/**
 * Maintenance over HTTP under /v1, so the CLI's verify, compact and backup work while `serve`
 * holds the folder: the server runs them on its own open database (writes wait per collection).
 */
export const opsRoutes: FastifyPluginAsyncTypebox<OpsRoutesOptions> = async (app, { db }) => {
  app.post(
    '/verify',
    {
      config: { access: 'write' },
      schema: { tags, summary: 'Check collections (as piramid verify --json); repair rebuilds derived data', body: VerifyBody, response: { 200: VerifyResponse, ...errorResponses } },
    },
    async (request) => {
      const { collections, repair } = request.body;
      return db.verify({ ...(collections === undefined ? {} : { collections }), repair: repair === true });
    },
  );

  app.post(
    '/collections/:name/compact',
    {
      config: { access: 'write' },
      schema: { tags, summary: 'Rebuild a collection without its deleted records (as piramid compact --json)', params: CollectionParams, response: { 200: CompactResponse, ...errorResponses } },
    },
    async (request) => db.compact(request.params.name),
  );

  app.post(
    '/backup',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'A point-in-time backup archive (tar.gz with a manifest), streamed as it is written',
        body: BackupBody,
        produces: ['application/gzip'],
      },
    },
    async (request, reply) => {
      const { collections, include_indexes: includeIndexes } = request.body;
      const options = { ...(collections === undefined ? {} : { collections }), ...(includeIndexes === undefined ? {} : { includeIndexes }) };
      // Unknown collections fail before the 200 goes out, as a normal JSON error.
      for (const name of collections ?? []) await db.collection(name);
      const body = new PassThrough();
      db.backup(body, options).catch((err: unknown) => {
        request.log.error({ err }, 'backup failed while streaming');
        body.destroy(err as Error);
      });
      return reply.header('content-type', 'application/gzip').header('content-disposition', 'attachment; filename="piramid-backup.tar.gz"').send(body);
    },
  );
};
