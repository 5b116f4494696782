import { inject } from 'vitest';
import { describeRuleScenarios } from './rule-scenarios.js';
import { startStack } from './stack.js';

// The three rules end to end on the suite's Redis (cluster.e2e.test.ts runs them on a cluster).
describeRuleScenarios(() => startStack({ sharedRedisUrl: inject('redisUrl') }));
