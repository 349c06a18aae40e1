/* storage.js: keeps the board in localStorage and loads the seed board.
   Uses: normalizeBoard, DEFAULT_COLUMNS (model.js), cloneJson (util.js),
   window.KANBAN_SEED (data/seed.js). */

var STORAGE_KEY = 'codehive-kanban-board-v1';

/** The board saved by an earlier visit, or null when there is none (or it is unreadable). */
function loadSavedBoard() {
  try {
    var raw = window.localStorage.getItem(STORAGE_KEY);
    return raw ? normalizeBoard(JSON.parse(raw)) : null;
  } catch (err) {
    console.warn('Saved board ignored:', err.message);
    return null;
  }
}

/** Saves the board; returns false when storage is unavailable (private mode, quota). */
function saveBoard(board) {
  try {
    window.localStorage.setItem(STORAGE_KEY, JSON.stringify(board));
    return true;
  } catch (err) {
    console.warn('Board not saved:', err.message);
    return false;
  }
}

/** Forgets the saved board (the next load starts from the seed). */
function clearSavedBoard() {
  try {
    window.localStorage.removeItem(STORAGE_KEY);
  } catch (err) {
    console.warn('Could not clear the saved board:', err.message);
  }
}

/** The seed embedded by data/seed.js, or an empty board if that script is missing. */
function embeddedSeed() {
  var seed = window.KANBAN_SEED ? cloneJson(window.KANBAN_SEED) : null;
  return normalizeBoard(seed) || {columns: cloneJson(DEFAULT_COLUMNS), cards: []};
}

/** Resolves to the seed board. Served over http(s) it reads data/seed.json;
    opened from file:// (where fetch of local files is refused) or when the
    request fails, it uses the embedded copy. Never rejects. */
function loadSeed() {
  if (window.location.protocol === 'file:' || typeof window.fetch !== 'function') {
    return Promise.resolve(embeddedSeed());
  }
  return window.fetch('data/seed.json', {cache: 'no-store'})
    .then(function (response) {
      if (!response.ok) {
        throw new Error('HTTP ' + response.status);
      }
      return response.json();
    })
    .then(function (data) {
      return normalizeBoard(data) || embeddedSeed();
    })
    .catch(function (err) {
      console.warn('data/seed.json unavailable, using the embedded seed:', err.message);
      return embeddedSeed();
    });
}
