"""Data access: the engine and sessions, the models, the search query builder, the SQL the two
databases spell differently, the $regex dialect and the migration runner."""
