/** Text made safe for HTML content and quoted attribute values. */
export const escapeHtml = (text: string): string =>
  text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');

/** Already-escaped HTML, so `html` doesn't escape it again. */
export type SafeHtml = { readonly html: string };

type Value = string | number | SafeHtml | readonly SafeHtml[] | undefined | false;

const render = (value: Value): string => {
  if (value === undefined || value === false) {
    return '';
  }
  if (Array.isArray(value)) {
    return value.map((item: SafeHtml) => item.html).join('');
  }
  if (typeof value === 'object') {
    return (value as SafeHtml).html;
  }
  return escapeHtml(String(value));
};

/** A template whose interpolated values are escaped unless they are `SafeHtml` already. */
export const html = (strings: TemplateStringsArray, ...values: Value[]): SafeHtml => ({
  html: strings.reduce(
    (out, text, i) => out + text + (i < values.length ? render(values[i]) : ''),
    '',
  ),
});

const STYLE = `
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
  header { background: #24292f; color: #fff; padding: .6rem 1.2rem; display: flex; gap: 1.2rem; align-items: center; }
  header a, header button { color: #fff; text-decoration: none; }
  header .grow { flex: 1; }
  header form { margin: 0; }
  header button { background: none; border: 1px solid #fff6; border-radius: 4px; padding: .2rem .6rem; cursor: pointer; }
  main { max-width: 72rem; margin: 1.5rem auto; padding: 0 1.2rem; }
  form.inline { display: flex; gap: .5rem; margin-bottom: 1rem; }
  input { font: inherit; padding: .35rem .5rem; border: 1px solid #d0d7de; border-radius: 4px; }
  button.primary { font: inherit; padding: .35rem .9rem; border: 0; border-radius: 4px; background: #1f6feb; color: #fff; cursor: pointer; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #d8dee4; vertical-align: top; }
  th { background: #eaeef2; font-weight: 600; }
  td.why { max-width: 26rem; overflow-wrap: anywhere; }
  .state { font-weight: 600; }
  .state-failed { color: #cf222e; } .state-completed { color: #1a7f37; } .state-delayed { color: #9a6700; }
  .login { max-width: 22rem; margin: 4rem auto; background: #fff; padding: 1.5rem; border: 1px solid #d8dee4; border-radius: 6px; }
  .login label { display: block; margin: .7rem 0 .2rem; }
  .login input { width: 100%; box-sizing: border-box; }
  .login button { margin-top: 1rem; width: 100%; }
  .error { color: #cf222e; }
  .muted { color: #59636e; }
`;

/** A whole page: the header (when logged in) and `body`. */
export const page = ({
  title,
  body,
  user,
  csrfToken,
}: {
  title: string;
  body: SafeHtml;
  user?: string;
  csrfToken?: string;
}): string =>
  html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Nudge</title>
<style>${{ html: STYLE }}</style>
</head>
<body>
${
  user === undefined
    ? ''
    : html`<header>
  <strong>Nudge</strong>
  <a href="/chats">Find by chat</a>
  <a href="/queues">Queues</a>
  <span class="grow"></span>
  <span class="muted">${user}</span>
  <form method="post" action="/logout"><input type="hidden" name="_csrf" value="${csrfToken ?? ''}"><button type="submit">Log out</button></form>
</header>`
}
<main>
${body}
</main>
</body>
</html>`.html;
