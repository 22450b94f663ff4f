/** The local identity provider's sign-in page: a test user's role profile, as CIS2 asks for one. */
import type { RoleProfile, TestUser } from './identity-provider';

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

/** The text of a role profile in the sign-in page's list. */
function roleProfileLabel(user: TestUser, role: RoleProfile): string {
  return `${user.name} — ${role.role_name ?? 'No job role'} at ${role.org_name ?? role.org_code} (${role.activity_codes.join(', ')})`;
}

export function signInPage(users: Iterable<TestUser>, action: string): string {
  const options = [...users]
    .flatMap((user) =>
      user.roles.map(
        (role) =>
          `<option value="${escapeHtml(`${user.sub}|${role.person_roleid}`)}">${escapeHtml(roleProfileLabel(user, role))}</option>`,
      ),
    )
    .join('\n          ');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Sign in – local CIS2 stand-in</title>
    <style>
      body { font-family: Arial, sans-serif; margin: 2rem; color: #212b32; background: #fff; }
      label, select, button { display: block; font-size: 1.1rem; margin: 0.5rem 0; }
      select { max-width: 100%; padding: 0.3rem; }
      button { background: #007f3b; color: #fff; border: 0; padding: 0.6rem 1.2rem; cursor: pointer; }
      button:focus, select:focus { outline: 3px solid #ffeb3b; outline-offset: 2px; }
    </style>
  </head>
  <body>
    <main>
      <h1>Sign in</h1>
      <p>Local stand-in for the NHS Care Identity Service: choose a test user's role profile.</p>
      <form method="post" action="${escapeHtml(action)}">
        <label for="role-profile">Role profile</label>
        <select id="role-profile" name="profile" required>
          ${options}
        </select>
        <button type="submit">Sign in</button>
      </form>
    </main>
  </body>
</html>`;
}
