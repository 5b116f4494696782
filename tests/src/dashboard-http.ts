/**
 * A logged-in (or not) HTTP client of the dashboard, as a browser would be: it keeps the
 * cookies the dashboard sets and sends them back, and it can log in through the form.
 */
export type DashboardClient = {
  /** A request with the cookies so far; `csrf` adds the session's token as X-XSRF-TOKEN. */
  request: (path: string, init?: RequestInit & { csrf?: boolean }) => Promise<Response>;
  /** Logs in through the login form; resolves with the answer to the form's POST. */
  login: (name: string, password: string, headers?: Record<string, string>) => Promise<Response>;
  cookie: (name: string) => string | undefined;
};

export const dashboardClient = (base: string): DashboardClient => {
  const jar = new Map<string, string>();
  const request: DashboardClient['request'] = async (path, { csrf, ...init } = {}) => {
    const headers = new Headers(init.headers);
    if (jar.size > 0) {
      headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    }
    const token = jar.get('XSRF-TOKEN');
    if (csrf && token) {
      headers.set('x-xsrf-token', token);
    }
    const response = await fetch(`${base}${path}`, { redirect: 'manual', ...init, headers });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const cut = pair.indexOf('=');
      const value = pair.slice(cut + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie)) {
        jar.delete(pair.slice(0, cut));
      } else {
        jar.set(pair.slice(0, cut), value);
      }
    }
    return response;
  };
  return {
    request,
    login: async (name, password, headers = {}) => {
      const form = await request('/login', { headers });
      const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
      return request('/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ _csrf: token, name, password }),
      });
    },
    cookie: (name) => jar.get(name),
  };
};
