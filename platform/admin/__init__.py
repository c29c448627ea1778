"""Admin pages: users and roles (processes, tables and templates come later)."""
