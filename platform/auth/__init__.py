"""Users, roles, login, API tokens and the one permission check (`require`)."""
