// Sign-in: a Jellyfin administrator's name and password (the `login`
// mutation), or a token pasted from `torrentql token`. A token is kept only
// after torrentql confirmed it belongs to an administrator.
import { useState } from '../vendor/preact-hooks.mjs';
import { ApiError, graphql, session } from '../api.js';
import { ErrorNote, Notice, html, useAction } from '../components.js';

const LOGIN = `mutation SignIn($username: String!, $password: String!) {
  login(username: $username, password: $password) { token viewer { subject isAdmin } }
}`;

const ADMINS_ONLY = 'torrentql is for administrators only.';

async function checkedToken(token) {
  let viewer;
  try {
    ({ viewer } = await graphql('{ viewer { subject isAdmin } }', {}, { token }));
  } catch (error) {
    if (error.code === 'FORBIDDEN') throw new ApiError(`This token is not an administrator's: ${ADMINS_ONLY}`, 'FORBIDDEN');
    throw error;
  }
  if (!viewer.isAdmin) throw new ApiError(`${viewer.subject} is not an administrator: ${ADMINS_ONLY}`, 'FORBIDDEN');
  return token;
}

async function logIn(username, password) {
  try {
    const { login } = await graphql(LOGIN, { username, password });
    return login.token;
  } catch (error) {
    if (error.code === 'FORBIDDEN') {
      throw new ApiError(`${username} is not a Jellyfin administrator: ${ADMINS_ONLY}`, 'FORBIDDEN');
    }
    throw error;
  }
}

export function SignIn({ reason }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [login, runLogin] = useAction(logIn);
  const [pasted, runPasted] = useAction(checkedToken);

  const submitLogin = async (event) => {
    event.preventDefault();
    const issued = await runLogin(username, password);
    if (issued) session.start(issued);
  };
  const submitToken = async (event) => {
    event.preventDefault();
    const checked = await runPasted(token.trim().replace(/^Bearer\s+/i, ''));
    if (checked) session.start(checked);
  };

  return html`<main class="signin">
    <h1>torrentql</h1>
    ${reason && html`<${Notice} kind="warning">${reason}<//>`}
    <form class="card" onSubmit=${submitLogin} aria-labelledby="login-title">
      <h2 id="login-title">Sign in with Jellyfin</h2>
      <label>User name
        <input name="username" autocomplete="username" required value=${username}
          onInput=${(event) => setUsername(event.target.value)} />
      </label>
      <label>Password
        <input name="password" type="password" autocomplete="current-password" value=${password}
          onInput=${(event) => setPassword(event.target.value)} />
      </label>
      <${ErrorNote} error=${login.error} />
      <button type="submit" disabled=${login.busy}>${login.busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
    <form class="card" onSubmit=${submitToken} aria-labelledby="token-title">
      <h2 id="token-title">Or paste a token</h2>
      <label>Token
        <input name="token" type="password" autocomplete="off" spellcheck=${false} required value=${token}
          onInput=${(event) => setToken(event.target.value)} />
      </label>
      <${ErrorNote} error=${pasted.error} />
      <button type="submit" disabled=${pasted.busy}>${pasted.busy ? 'Checking…' : 'Use this token'}</button>
    </form>
    <p class="hint">The token is kept for this tab only; signing out forgets it.</p>
  </main>`;
}
