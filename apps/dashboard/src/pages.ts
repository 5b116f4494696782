import type { ChatJob } from './chat-jobs.js';
import { html, page, type SafeHtml } from './html.js';

export const loginPage = ({ csrfToken, error }: { csrfToken: string; error?: string }): string =>
  page({
    title: 'Log in',
    body: html`<form class="login" method="post" action="/login">
  <h1>Nudge</h1>
  ${error === undefined ? '' : html`<p class="error" role="alert">${error}</p>`}
  <input type="hidden" name="_csrf" value="${csrfToken}">
  <label for="name">Name</label>
  <input id="name" name="name" autocomplete="username" required autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button class="primary" type="submit">Log in</button>
</form>`,
  });

const time = (ms: number | undefined): SafeHtml =>
  ms === undefined || ms === 0
    ? html`<span class="muted">–</span>`
    : html`<time datetime="${new Date(ms).toISOString()}">${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)}</time>`;

const jobRow = (job: ChatJob, chatId: string, csrfToken: string, boardPath: string): SafeHtml => {
  const link = `${boardPath}/queue/${encodeURIComponent(job.queue)}/${encodeURIComponent(job.id)}`;
  return html`<tr data-queue="${job.queue}" data-job-id="${job.id}" data-state="${job.state}">
  <td>${job.queue}</td>
  <td><a href="${link}">${job.name}</a><br><span class="muted">${job.id.slice(0, 16)}</span></td>
  <td class="state state-${job.state}">${job.state}</td>
  <td>${time(job.addedAt)}</td>
  <td>${job.state === 'delayed' ? html`due ${time(job.dueAt)}` : time(job.finishedAt ?? job.processedAt)}</td>
  <td>${job.attempts}</td>
  <td class="why">${job.why}</td>
  <td>${
    job.state === 'failed'
      ? html`<form method="post" action="/chats/retry">
      <input type="hidden" name="_csrf" value="${csrfToken}">
      <input type="hidden" name="chat" value="${chatId}">
      <input type="hidden" name="queue" value="${job.queue}">
      <input type="hidden" name="job" value="${job.id}">
      <button class="primary" type="submit">Retry</button>
    </form>`
      : ''
  }</td>
</tr>`;
};

/** "Find by chat": a chat id in, every job of that chat out, with a retry on failed ones. */
export const chatPage = ({
  chatId,
  jobs,
  user,
  csrfToken,
  boardPath,
  notice,
}: {
  chatId: string;
  jobs: readonly ChatJob[] | undefined;
  user: string;
  csrfToken: string;
  boardPath: string;
  notice?: string;
}): string =>
  page({
    title: chatId === '' ? 'Find by chat' : `Chat ${chatId}`,
    user,
    csrfToken,
    body: html`<h1>Find by chat</h1>
<form class="inline" method="get" action="/chats">
  <input name="chat" value="${chatId}" placeholder="LiveChat chat id" aria-label="Chat id" size="30" required>
  <button class="primary" type="submit">Find</button>
</form>
${notice === undefined ? '' : html`<p role="status">${notice}</p>`}
${
  jobs === undefined
    ? html`<p class="muted">Every job of a chat, across the queues: the webhooks stored for it, the rule jobs and idle timers they started, each with its state and what it did or why it failed.</p>`
    : jobs.length === 0
      ? html`<p>No jobs for chat <strong>${chatId}</strong> in Redis (finished jobs are kept for an hour, failed ones for a week).</p>`
      : html`<p>${jobs.length} job(s) for chat <strong>${chatId}</strong>, newest first.</p>
<table id="jobs">
  <thead><tr><th>Queue</th><th>Job</th><th>State</th><th>Added</th><th>Finished / due</th><th>Attempts</th><th>Outcome or failure</th><th></th></tr></thead>
  <tbody>${jobs.map((job) => jobRow(job, chatId, csrfToken, boardPath))}</tbody>
</table>`
}`,
  });
