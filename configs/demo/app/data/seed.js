/* seed.js: the same board as data/seed.json, as a global.
   Browsers refuse fetch() of a local file when the page is opened from file://,
   so js/storage.js falls back to this copy. Keep it identical to seed.json. */
window.KANBAN_SEED = {
  "columns": [
    {"id": "todo", "title": "To do"},
    {"id": "doing", "title": "Doing"},
    {"id": "done", "title": "Done"}
  ],
  "cards": [
    {"id": "c1", "column": "todo", "title": "Write the release notes", "description": "Summarise the new features for the changelog.", "createdAt": "2026-11-02T09:00:00Z"},
    {"id": "c2", "column": "todo", "title": "Book the team lunch", "description": "Friday, somewhere with vegetarian options.", "createdAt": "2026-11-03T10:30:00Z"},
    {"id": "c3", "column": "todo", "title": "Try dragging a card", "description": "Drag me to another column, or use the arrow buttons.", "createdAt": "2026-11-04T08:15:00Z"},
    {"id": "c4", "column": "doing", "title": "Fix the login redirect", "description": "Users land on a blank page after signing in.", "createdAt": "2026-11-01T14:00:00Z"},
    {"id": "c5", "column": "doing", "title": "Review pull request #42", "description": "", "createdAt": "2026-11-04T11:45:00Z"},
    {"id": "c6", "column": "done", "title": "Set up the repository", "description": "README, licence and CI pipeline.", "createdAt": "2026-10-28T16:20:00Z"}
  ]
};
