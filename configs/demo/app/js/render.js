/* render.js: turns the board into HTML. Buttons carry data-action and
   data-card-id attributes; js/app.js handles their clicks in one listener.
   Uses: cardsIn (model.js), escapeHtml, formatDate, plural, byId (util.js). */

/** HTML of one card. `position` is the column's index, to disable impossible moves. */
function renderCard(card, position, columnCount) {
  var description = card.description
    ? '<p class="card-description">' + escapeHtml(card.description) + '</p>'
    : '';
  var id = escapeHtml(card.id);
  return '<article class="card" draggable="true" data-card-id="' + id + '">' +
    '<h3 class="card-title">' + escapeHtml(card.title) + '</h3>' +
    description +
    '<footer class="card-footer">' +
      '<time class="card-date" datetime="' + escapeHtml(card.createdAt) + '">' +
        escapeHtml(formatDate(card.createdAt)) + '</time>' +
      '<span class="card-actions">' +
        '<button type="button" class="icon-button" data-action="left" data-card-id="' + id + '"' +
          (position === 0 ? ' disabled' : '') + ' title="Move left" aria-label="Move left">&#8592;</button>' +
        '<button type="button" class="icon-button" data-action="right" data-card-id="' + id + '"' +
          (position === columnCount - 1 ? ' disabled' : '') + ' title="Move right" aria-label="Move right">&#8594;</button>' +
        '<button type="button" class="icon-button danger" data-action="delete" data-card-id="' + id + '"' +
          ' title="Delete card" aria-label="Delete card">&#10005;</button>' +
      '</span>' +
    '</footer>' +
  '</article>';
}

/** HTML of one column with its cards. */
function renderColumn(board, column, position) {
  var cards = cardsIn(board, column.id);
  var body = cards.length > 0
    ? cards.map(function (card) { return renderCard(card, position, board.columns.length); }).join('')
    : '<p class="empty">No cards yet</p>';
  return '<section class="column column-' + escapeHtml(column.id) + '" data-column-id="' + escapeHtml(column.id) + '">' +
    '<header class="column-header">' +
      '<h2>' + escapeHtml(column.title) + '</h2>' +
      '<span class="count">' + cards.length + '</span>' +
    '</header>' +
    '<div class="card-list" data-column-id="' + escapeHtml(column.id) + '">' + body + '</div>' +
  '</section>';
}

/** Redraws the whole board into `root` and updates the summary line. */
function renderBoard(board, root) {
  root.innerHTML = board.columns
    .map(function (column, position) { return renderColumn(board, column, position); })
    .join('');
  renderSummary(board);
}

/** Updates the "6 cards · 1 done" line in the page header. */
function renderSummary(board) {
  var summary = byId('summary');
  if (!summary) {
    return;
  }
  var last = board.columns[board.columns.length - 1];
  var done = cardsIn(board, last.id).length;
  summary.textContent = plural(board.cards.length, 'card') + ' \u00b7 ' + done + ' ' + last.title.toLowerCase();
}

/** Fills the column <select> of the add form with the board's columns. */
function renderColumnOptions(board, select) {
  select.innerHTML = board.columns.map(function (column) {
    return '<option value="' + escapeHtml(column.id) + '">' + escapeHtml(column.title) + '</option>';
  }).join('');
}
