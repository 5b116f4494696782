import { describe, expect, it } from 'vitest';
import { createCredentials, hashPassword, PASSWORD_USER } from './auth.js';
import { describeOutcome } from './chat-jobs.js';
import { html } from './html.js';
import { chatPage } from './pages.js';

describe('html', () => {
  it('escapes every interpolated value, but not SafeHtml', () => {
    const evil = `<script>alert("x")</script>'&`;
    expect(html`<p title="${evil}">${evil}</p>`.html).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;</p>',
    );
    expect(html`<div>${html`<b>${evil}</b>`}</div>`.html).toBe(
      '<div><b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;</b></div>',
    );
  });

  it('renders a failure reason and a chat id from Redis as text', () => {
    const page = chatPage({
      chatId: '"><img src=x onerror=alert(1)>',
      user: 'admin',
      csrfToken: 'token',
      boardPath: '/queues',
      jobs: [
        {
          queue: 'canned-responses',
          id: 'abc',
          name: 'suggest',
          state: 'failed',
          addedAt: 1,
          attempts: 1,
          why: '<iframe src="https://evil.example">',
        },
      ],
    });
    expect(page).not.toContain('<img src=x');
    expect(page).not.toContain('<iframe');
    expect(page).toContain('&lt;iframe src=&quot;https://evil.example&quot;&gt;');
    expect(page).toContain('href="/queues/queue/canned-responses/abc"');
    expect(page).toContain('<button class="primary" type="submit">Retry</button>');
  });
});

describe('describeOutcome', () => {
  it('says what a job did in one line', () => {
    expect(describeOutcome({ outcome: 'sent', botId: 'b', eventIds: ['e1', 'e2'] })).toBe(
      'sent: event e1, e2',
    );
    expect(describeOutcome({ outcome: 'skipped', reason: 'the agent answered' })).toBe(
      'skipped: the agent answered',
    );
    expect(describeOutcome({ outcome: 'routed', intents: [] })).toBe('routed: nothing to do');
    expect(describeOutcome({ outcome: 'routed', intents: ['schedule-idle-reply'] })).toBe(
      'routed: schedule-idle-reply',
    );
    expect(describeOutcome(undefined)).toBe('');
    expect(describeOutcome({ other: 1 })).toBe('{"other":1}');
  });
});

describe('credentials', () => {
  it('accepts each user with their own password only; a single password logs in as admin', async () => {
    const credentials = await createCredentials({
      users: [{ name: 'ops', hash: await hashPassword('ops-password-1') }],
      password: 'admin-password-1',
    });
    expect(await credentials.verify('ops', 'ops-password-1')).toBe('ops');
    expect(await credentials.verify('ops', 'admin-password-1')).toBeUndefined();
    expect(await credentials.verify(PASSWORD_USER, 'admin-password-1')).toBe(PASSWORD_USER);
    expect(await credentials.verify('nobody', 'ops-password-1')).toBeUndefined();
    expect(await credentials.verify('ops', '')).toBeUndefined();
  });
});
