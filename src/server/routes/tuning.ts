import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { benchCollection } from '../../engine/bench/recall.js';
import type { Database } from '../../engine/database.js';
import type { IndexTuningPatch } from '../../engine/types.js';
import { tuningJson } from '../../ui/tuning.js';
import { BenchBody, BenchResponse, CollectionParams, TuningBody, TuningResponse, errorResponses } from '../schemas.js';

export interface TuningRoutesOptions {
  db: Database;
}

const tags = ['tuning'];

/**
 * Index tuning under /v1: read and change a collection's search defaults (and HNSW efConstruction)
 * without rebuilding, and measure recall against exact search on its own data (`piramid bench`).
 */
export const tuningRoutes: FastifyPluginAsyncTypebox<TuningRoutesOptions> = async (app, { db }) => {
  app.get(
    '/collections/:name/index',
    {
      config: { access: 'read' },
      schema: { tags, summary: 'Index settings as stored and in force (as piramid index-config --json)', params: CollectionParams, response: { 200: TuningResponse, ...errorResponses } },
    },
    async (request) => tuningJson(await (await db.collection(request.params.name)).indexTuning()),
  );

  app.patch(
    '/collections/:name',
    {
      config: { access: 'write' },
      schema: {
        tags,
        summary: 'Change search defaults (ef_search, nprobe) and HNSW ef_construction; null restores a default',
        params: CollectionParams,
        body: TuningBody,
        response: { 200: TuningResponse, ...errorResponses },
      },
    },
    async (request) => {
      const body = request.body;
      const patch: IndexTuningPatch = {};
      if (body.ef_search !== undefined) patch.efSearch = body.ef_search;
      if (body.ef_construction !== undefined) patch.efConstruction = body.ef_construction;
      if (body.nprobe !== undefined) patch.nprobe = body.nprobe;
      return tuningJson(await (await db.collection(request.params.name)).updateIndexTuning(patch));
    },
  );

  app.post(
    '/collections/:name/bench',
    {
      // Reads only, but costs seconds of CPU: a read-only key may run it.
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'Recall@k of the index against exact search, and latencies, on stored vectors as queries (as piramid bench --json)',
        params: CollectionParams,
        body: BenchBody,
        response: { 200: BenchResponse, ...errorResponses },
      },
    },
    async (request) => {
      const body = request.body;
      return benchCollection(await db.collection(request.params.name), {
        ...(body.queries === undefined ? {} : { queries: body.queries }),
        ...(body.k === undefined ? {} : { k: body.k }),
        ...(body.seed === undefined ? {} : { seed: body.seed }),
        ...(body.ef === undefined ? {} : { efSearch: body.ef }),
        ...(body.nprobe === undefined ? {} : { nprobe: body.nprobe }),
      });
    },
  );
};
