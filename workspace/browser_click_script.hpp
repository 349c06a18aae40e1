// The page side of the browser click-through: installed into a loaded page
// with Runtime.evaluate, then driven one interaction per call, so that what an
// interaction throws is attributed to it and a handler that never returns is
// caught by the caller's deadline. Internal to workspace/.
#pragma once

namespace codehive::ws::click_script {

/// Evaluated as `(INSTALL)(["key", ...])`: the keys of controls already
/// handled (kept by the caller across a reload, when a handler navigated the
/// page away). Dialogs return at once (an alert() would block the page),
/// window.open opens nothing, and a followed link or a submitted form does
/// not navigate: the page's own handlers run, the browser's default action
/// (leaving the page, and what was collected on it) does not. The listener
/// that prevents it is on window in the bubble phase, after the page's own
/// handlers; one that stops propagation gets its navigation, and the caller
/// reloads the page.
inline constexpr const char* install = R"JS((function (done) {
  if (window.__codehiveClick) return 'installed';
  const seen = new Set(done);
  const links = [];
  const noop = function () {};
  window.alert = noop;
  window.print = noop;
  window.confirm = function () { return true; };
  window.prompt = function (m, d) { return d === undefined ? '' : String(d); };
  window.open = function () { return null; };
  const localPath = function (href) {
    try {
      const u = new URL(href, location.href);
      return u.origin === location.origin ? u : null;
    } catch (e) { return null; }
  };
  window.addEventListener('click', function (e) {
    const a = e.target instanceof Element ? e.target.closest('a[href]') : null;
    if (!a) return;
    const u = localPath(a.href);
    if (u && u.pathname === location.pathname && u.search === location.search) return;  // in-page (#) link
    e.preventDefault();
    if (u) links.push(decodeURIComponent(u.pathname));
  });
  window.addEventListener('submit', function (e) { e.preventDefault(); });

  const fill = 'input, textarea, select';
  const click = 'button, a[href], [onclick], [role=button], summary';
  const sample = {
    email: 'user@example.com', number: '3', range: '3', date: '2024-01-02', time: '12:30',
    'datetime-local': '2024-01-02T12:30', month: '2024-01', week: '2024-W01', url: 'https://example.com/',
    tel: '555-0100', color: '#336699', password: 'Codehive-1', search: 'codehive', text: 'codehive'
  };
  const clickTypes = ['button', 'submit', 'reset', 'checkbox', 'radio', 'image'];
  const key = function (el) {
    const parts = [];
    for (let n = el; n && n.nodeType === 1 && n !== document.documentElement; n = n.parentElement) {
      let i = 0;
      for (let s = n; (s = s.previousElementSibling);) i++;
      parts.push(n.tagName + (n.id ? '#' + n.id : '') + ':' + i);
    }
    return parts.reverse().join('>');  // not its text: a counter's label changes with each click
  };
  const describe = function (el) {
    let d = '<' + el.tagName.toLowerCase();
    if (el.id) d += '#' + el.id;
    else if (el.getAttribute('name')) d += '[name=' + el.getAttribute('name') + ']';
    else if (el.classList.length) d += '.' + el.classList[0];
    d += '>';
    const t = (el.tagName === 'INPUT' ? el.value || el.type : el.textContent || '').trim().replace(/\s+/g, ' ');
    if (t) d += ' "' + t.slice(0, 40) + '"';
    return d;
  };
  const shown = function (el) {
    return el.isConnected && !el.disabled && el.getClientRects().length > 0 && !el.closest('[inert]');
  };
  const isClick = function (el) {
    const type = (el.getAttribute('type') || 'text').toLowerCase();
    return (el.tagName !== 'INPUT' && el.tagName !== 'TEXTAREA' && el.tagName !== 'SELECT') ||
        (el.tagName === 'INPUT' && clickTypes.indexOf(type) >= 0);
  };
  const act = function (el) {
    const tag = el.tagName;
    const type = (el.getAttribute('type') || 'text').toLowerCase();
    if (tag === 'SELECT') {
      const opts = Array.from(el.options).filter(function (o) { return !o.disabled; });
      if (opts.length) el.value = opts[opts.length - 1].value;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
      return;
    }
    if (isClick(el)) {
      el.click();
      return;
    }
    el.focus();
    let v = tag === 'TEXTAREA' ? 'codehive' : (sample[type] || 'codehive');
    const max = el.maxLength;
    if (max > 0 && v.length > max) v = v.slice(0, max);
    el.value = v;
    el.dispatchEvent(new InputEvent('input', { bubbles: true, data: v, inputType: 'insertText' }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
    for (const t of ['keydown', 'keypress', 'keyup'])
      el.dispatchEvent(new KeyboardEvent(t, { bubbles: true, cancelable: true, key: 'Enter', code: 'Enter', keyCode: 13 }));
  };
  act.verb = function (el) {
    const type = (el.getAttribute('type') || 'text').toLowerCase();
    if (el.tagName === 'SELECT') return 'choosing in ';
    if (isClick(el)) return 'clicking ';
    return type === 'file' || type === 'hidden' ? null : 'typing into ';
  };
  // Says what is done next before doing it (the caller names what follows
  // after it, even from a handler that never returns); console.debug as the
  // page found it, since a page may replace it later.
  const announce = console.debug.bind(console);
  const marker = '\u0001codehive-step ';
  window.__codehiveClick = {
    // One interaction: the next control not handled yet, in document order
    // (controls a previous interaction revealed included); forms after all
    // their fields. null when there is nothing left.
    step: function () {
      for (const el of document.querySelectorAll(fill + ', ' + click)) {
        if (!shown(el)) continue;
        const k = key(el);
        if (seen.has(k)) continue;
        seen.add(k);
        const verb = act.verb(el);
        if (!verb) continue;
        const step = JSON.stringify({ key: k, what: verb + describe(el) });
        announce(marker + step);
        act(el);
        return step;
      }
      for (const f of document.forms) {
        if (!f.isConnected) continue;
        const k = 'form ' + key(f);
        if (seen.has(k)) continue;
        seen.add(k);
        const step = JSON.stringify({ key: k, what: 'submitting ' + describe(f) });
        announce(marker + step);
        if (f.checkValidity()) f.requestSubmit();
        else f.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
        return step;
      }
      return null;
    },
    links: function () { return JSON.stringify(links); }
  };
  return 'installed';
}))JS";

}  // namespace codehive::ws::click_script
