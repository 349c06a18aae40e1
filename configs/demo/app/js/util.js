/* util.js: small helpers shared by the other scripts.
   Classic script: every function here is a global. */

/** Returns the element with that id (shorthand for document.getElementById). */
function byId(id) {
  return document.getElementById(id);
}

/** Returns a new unique id such as "card-lq3k9x-4f2a". */
function makeId(prefix) {
  var random = Math.random().toString(36).slice(2, 6);
  return (prefix || 'id') + '-' + Date.now().toString(36) + '-' + random;
}

/** Escapes text for safe use inside HTML markup and attribute values. */
function escapeHtml(text) {
  return String(text == null ? '' : text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Formats an ISO date as "4 Nov"; returns "" for a missing or bad date. */
function formatDate(iso) {
  var date = new Date(iso);
  if (!iso || isNaN(date.getTime())) {
    return '';
  }
  var months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  return date.getDate() + ' ' + months[date.getMonth()];
}

/** Deep copy of plain JSON data (objects, arrays, strings, numbers). */
function cloneJson(value) {
  return JSON.parse(JSON.stringify(value));
}

/** "1 card", "3 cards". */
function plural(count, word) {
  return count + ' ' + word + (count === 1 ? '' : 's');
}
