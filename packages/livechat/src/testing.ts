// Test-only: webhook fixtures as LiveChat documents them (`@nudge/livechat/testing`).
export {
  FIXTURE_AGENT_ID,
  FIXTURE_BOT_ID,
  FIXTURE_CUSTOMER_ID,
  FIXTURE_ORGANIZATION_ID,
  FIXTURES,
  type FixtureEnvelope,
  fixtureEnvelope,
} from './webhooks/fixtures.js';
