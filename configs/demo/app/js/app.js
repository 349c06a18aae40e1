/* app.js: starts the board and handles the user's actions.
   Global functions here are called from inline handlers in index.html
   (handleAddSubmit, clearDone, resetBoard).
   Uses: storage.js (loadSavedBoard, saveBoard, clearSavedBoard, loadSeed),
   model.js (addCard, moveCard, shiftCard, deleteCard, removeDoneCards, findCard),
   render.js (renderBoard, renderColumnOptions), dnd.js (enableDragAndDrop),
   util.js (byId, plural). */

var board = null;
var toastTimer = null;

/** Redraws the board and saves it. */
function commit() {
  renderBoard(board, byId('board'));
  saveBoard(board);
}

/** Shows a short message at the bottom of the page. */
function showToast(message) {
  var toast = byId('toast');
  toast.textContent = message;
  toast.classList.add('visible');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(function () { toast.classList.remove('visible'); }, 2500);
}

/** Submit handler of the "Add a card" form (onsubmit in index.html). */
function handleAddSubmit(event) {
  event.preventDefault();
  var title = byId('card-title');
  var description = byId('card-description');
  var card = addCard(board, byId('card-column').value, title.value, description.value);
  if (!card) {
    showToast('Give the card a title first.');
    title.focus();
    return;
  }
  commit();
  title.value = '';
  description.value = '';
  title.focus();
  showToast('Added \u201c' + card.title + '\u201d.');
}

/** Click handler for the move and delete buttons on cards. */
function handleBoardClick(event) {
  var button = event.target.closest ? event.target.closest('button[data-action]') : null;
  if (!button) {
    return;
  }
  var cardId = button.getAttribute('data-card-id');
  var action = button.getAttribute('data-action');
  if (action === 'left' || action === 'right') {
    if (shiftCard(board, cardId, action === 'left' ? -1 : 1)) {
      commit();
    }
  } else if (action === 'delete') {
    var card = findCard(board, cardId);
    if (card && deleteCard(board, cardId)) {
      commit();
      showToast('Deleted \u201c' + card.title + '\u201d.');
    }
  }
}

/** Called by dnd.js when a card is dropped on a column. */
function handleDrop(cardId, columnId, beforeCardId) {
  if (moveCard(board, cardId, columnId, beforeCardId)) {
    commit();
  }
}

/** "Clear done" button: deletes every card in the Done column. */
function clearDone() {
  var removed = removeDoneCards(board);
  commit();
  showToast(removed > 0 ? 'Cleared ' + plural(removed, 'card') + ' from Done.' : 'Nothing to clear.');
}

/** "Reset" button: forgets the saved board and reloads the seed. */
function resetBoard() {
  if (!window.confirm('Replace the board with the sample cards?')) {
    return;
  }
  clearSavedBoard();
  loadSeed().then(function (seed) {
    board = seed;
    commit();
    showToast('Board reset.');
  });
}

/** Loads the saved board (or the seed on a first visit) and wires the page. */
function startApp() {
  var root = byId('board');
  root.addEventListener('click', handleBoardClick);
  enableDragAndDrop(root, handleDrop);
  var saved = loadSavedBoard();
  var ready = saved ? Promise.resolve(saved) : loadSeed();
  ready.then(function (loaded) {
    board = loaded;
    renderColumnOptions(board, byId('card-column'));
    commit();
  });
}

document.addEventListener('DOMContentLoaded', startApp);
