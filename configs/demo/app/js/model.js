/* model.js: the board data and every operation on it. No DOM access here.
   A board is {columns: [{id, title}], cards: [{id, column, title, description, createdAt}]};
   the order of board.cards is the order of the cards within each column.
   Uses: makeId, cloneJson (util.js). */

var DEFAULT_COLUMNS = [
  {id: 'todo', title: 'To do'},
  {id: 'doing', title: 'Doing'},
  {id: 'done', title: 'Done'}
];

/** Checks and cleans board data read from storage or a seed; returns a board or null. */
function normalizeBoard(data) {
  if (!data || typeof data !== 'object' || !Array.isArray(data.cards)) {
    return null;
  }
  var columns = Array.isArray(data.columns) && data.columns.length > 0
    ? data.columns.filter(function (c) { return c && c.id && c.title; })
    : cloneJson(DEFAULT_COLUMNS);
  var known = columns.map(function (c) { return c.id; });
  var seen = {};
  var cards = [];
  data.cards.forEach(function (card) {
    if (!card || typeof card.title !== 'string' || card.title.trim() === '') {
      return;
    }
    var id = card.id && !seen[card.id] ? String(card.id) : makeId('card');
    seen[id] = true;
    cards.push({
      id: id,
      column: known.indexOf(card.column) >= 0 ? card.column : known[0],
      title: card.title.trim(),
      description: typeof card.description === 'string' ? card.description.trim() : '',
      createdAt: card.createdAt || new Date().toISOString()
    });
  });
  return {columns: columns.map(function (c) { return {id: c.id, title: c.title}; }), cards: cards};
}

/** The cards of one column, in board order. */
function cardsIn(board, columnId) {
  return board.cards.filter(function (card) { return card.column === columnId; });
}

/** The card with that id, or null. */
function findCard(board, cardId) {
  for (var i = 0; i < board.cards.length; i++) {
    if (board.cards[i].id === cardId) {
      return board.cards[i];
    }
  }
  return null;
}

/** Position of a column in board.columns, or -1. */
function columnIndex(board, columnId) {
  for (var i = 0; i < board.columns.length; i++) {
    if (board.columns[i].id === columnId) {
      return i;
    }
  }
  return -1;
}

/** Adds a card at the end of a column; returns it, or null if the title is empty. */
function addCard(board, columnId, title, description) {
  var cleanTitle = String(title || '').trim();
  if (cleanTitle === '' || columnIndex(board, columnId) < 0) {
    return null;
  }
  var card = {
    id: makeId('card'),
    column: columnId,
    title: cleanTitle,
    description: String(description || '').trim(),
    createdAt: new Date().toISOString()
  };
  board.cards.push(card);
  return card;
}

/** Moves a card into a column, before the card `beforeId` (or last when beforeId is null).
    Returns true when the board changed. */
function moveCard(board, cardId, columnId, beforeId) {
  var card = findCard(board, cardId);
  if (!card || columnIndex(board, columnId) < 0 || cardId === beforeId) {
    return false;
  }
  board.cards.splice(board.cards.indexOf(card), 1);
  card.column = columnId;
  var before = beforeId ? findCard(board, beforeId) : null;
  if (before && before.column === columnId) {
    board.cards.splice(board.cards.indexOf(before), 0, card);
  } else {
    board.cards.push(card);
  }
  return true;
}

/** Moves a card to the neighbouring column: step -1 is left, +1 is right. */
function shiftCard(board, cardId, step) {
  var card = findCard(board, cardId);
  if (!card) {
    return false;
  }
  var target = board.columns[columnIndex(board, card.column) + step];
  return target ? moveCard(board, cardId, target.id, null) : false;
}

/** Deletes a card; returns true if it existed. */
function deleteCard(board, cardId) {
  var card = findCard(board, cardId);
  if (!card) {
    return false;
  }
  board.cards.splice(board.cards.indexOf(card), 1);
  return true;
}

/** Deletes every card in the last column ("Done"); returns how many were removed. */
function removeDoneCards(board) {
  var last = board.columns[board.columns.length - 1].id;
  var before = board.cards.length;
  board.cards = board.cards.filter(function (card) { return card.column !== last; });
  return before - board.cards.length;
}
