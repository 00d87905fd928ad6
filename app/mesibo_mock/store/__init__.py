"""State in SQLite: the tables (declared once, with SQLModel), the connection with its group commit,
the upgrade of older stores and retention."""
