import type { SandboxSeed } from './store.js';

/** The first seeded organization, app and account: what a client needs to talk to the sandbox. */
export type SandboxCredentials = {
  organizationId: string;
  clientId: string;
  accountId: string;
  agentId: string;
  pat: string;
  agentToken: string;
  /** `Basic base64(account_id:PAT)`. */
  patAuthorization: string;
  /** `Bearer <agent token>`. */
  agentAuthorization: string;
};

/** The seed's credentials; a seed without them is refused. */
export const credentialsFrom = (seed: SandboxSeed): SandboxCredentials => {
  const organization = seed.organizations[0];
  const app = seed.clientApps[0];
  const account = seed.accounts[0];
  if (!organization || !app || !account?.pat || !account.agentToken) {
    throw new Error(
      'seed: needs an organization, a client app and a first account with a PAT and an agent token',
    );
  }
  return {
    organizationId: organization.id,
    clientId: app.clientId,
    accountId: account.accountId,
    agentId: account.agentId,
    pat: account.pat,
    agentToken: account.agentToken,
    patAuthorization: `Basic ${Buffer.from(`${account.accountId}:${account.pat}`).toString('base64')}`,
    agentAuthorization: `Bearer ${account.agentToken}`,
  };
};
