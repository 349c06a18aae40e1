/* dnd.js: drag and drop of cards between and within columns (HTML5 drag events).
   enableDragAndDrop(root, onDrop) listens on the board root once; the board
   can be re-rendered freely. onDrop(cardId, columnId, beforeCardId) decides
   what happens (app.js calls moveCard from model.js). */

var draggedCardId = null;

/** The card element the pointer is above in a list, i.e. the one the dragged card goes before. */
function cardAfterPointer(list, clientY) {
  var cards = list.querySelectorAll('.card:not(.dragging)');
  for (var i = 0; i < cards.length; i++) {
    var box = cards[i].getBoundingClientRect();
    if (clientY < box.top + box.height / 2) {
      return cards[i];
    }
  }
  return null;
}

/** Removes the drop highlight from every list. */
function clearDropTargets(root) {
  var lists = root.querySelectorAll('.card-list.drop-target');
  for (var i = 0; i < lists.length; i++) {
    lists[i].classList.remove('drop-target');
  }
}

/** Wires the drag events of `root` (the board element). */
function enableDragAndDrop(root, onDrop) {
  root.addEventListener('dragstart', function (event) {
    var card = event.target.closest ? event.target.closest('.card') : null;
    if (!card) {
      return;
    }
    draggedCardId = card.getAttribute('data-card-id');
    card.classList.add('dragging');
    event.dataTransfer.effectAllowed = 'move';
    event.dataTransfer.setData('text/plain', draggedCardId);
  });

  root.addEventListener('dragend', function (event) {
    var card = event.target.closest ? event.target.closest('.card') : null;
    if (card) {
      card.classList.remove('dragging');
    }
    clearDropTargets(root);
    draggedCardId = null;
  });

  root.addEventListener('dragover', function (event) {
    var list = event.target.closest ? event.target.closest('.card-list') : null;
    if (!list || !draggedCardId) {
      return;
    }
    event.preventDefault();
    event.dataTransfer.dropEffect = 'move';
    if (!list.classList.contains('drop-target')) {
      clearDropTargets(root);
      list.classList.add('drop-target');
    }
  });

  root.addEventListener('drop', function (event) {
    var list = event.target.closest ? event.target.closest('.card-list') : null;
    var cardId = draggedCardId || event.dataTransfer.getData('text/plain');
    clearDropTargets(root);
    if (!list || !cardId) {
      return;
    }
    event.preventDefault();
    var before = cardAfterPointer(list, event.clientY);
    onDrop(cardId, list.getAttribute('data-column-id'), before ? before.getAttribute('data-card-id') : null);
  });
}
