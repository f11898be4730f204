// Exchanges the dashboard's Supabase access token for a Reclip session, then goes on.
// The token comes in the URL fragment (#access_token=..., never sent to a server or logged), or from
// supabase-js's own storage when Reclip shares the dashboard's origin (localStorage "sb-<ref>-auth-token").

const $card = document.querySelector('[data-exchange-url]');
const $status = $card.querySelector('.supabase-status');

function tokenFromFragment() {
  const token = new URLSearchParams(location.hash.slice(1)).get('access_token');
  if (token) history.replaceState(null, '', location.pathname + location.search);  // out of the history
  return token;
}

function tokenFromStorage() {
  for (let i = 0; i < localStorage.length; i += 1) {
    const key = localStorage.key(i);
    if (!/^sb-.+-auth-token$/.test(key)) continue;
    try {
      const stored = JSON.parse(localStorage.getItem(key));
      const token = stored?.access_token ?? stored?.currentSession?.access_token;
      if (typeof token === 'string') return token;
    } catch { /* not supabase-js's JSON: look further */ }
  }
  return null;
}

function fail(message) {
  $status.textContent = message;
  $status.classList.remove('muted');
  $status.classList.add('supabase-error');
  $card.querySelector('.supabase-fallback').hidden = false;
}

async function signIn() {
  const token = tokenFromFragment() ?? tokenFromStorage();
  if (!token) {
    fail('No dashboard session was found in this browser. Sign in to the dashboard, then open Reclip from it.');
    return;
  }
  let response;
  try {
    response = await fetch($card.dataset.exchangeUrl, {
      method: 'POST', headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' }, credentials: 'same-origin',
    });
  } catch {
    fail('The server cannot be reached. Check your connection and try again.');
    return;
  }
  if (response.ok) {
    location.replace($card.dataset.next);
    return;
  }
  const body = await response.json().catch(() => null);
  fail(body?.error?.message ?? `Signing in failed (${response.status}).`);
}

signIn();
