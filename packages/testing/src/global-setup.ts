import type { TestProject } from 'vitest/node';
import { startOwnRedis } from './fixtures.js';

/**
 * vitest globalSetup: the shared Redis is `REDIS_URL` when set, else one spawned for this
 * run (or a container where only Docker exists). Tests that kill Redis start their own.
 */
export default async function setup(
  project: TestProject,
): Promise<(() => Promise<void>) | undefined> {
  const external = process.env.REDIS_URL;
  if (external) {
    project.provide('redisUrl', external);
    return undefined;
  }
  const server = await startOwnRedis();
  project.provide('redisUrl', server.url);
  return () => server.stop();
}
