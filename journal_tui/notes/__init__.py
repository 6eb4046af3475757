"""The Markdown notes store: Note model, parsing, atomic store, import."""
