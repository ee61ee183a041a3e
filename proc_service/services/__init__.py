"""Plain service functions: (session, scope, actor, values) -> data. The only place that opens a
transaction; each write and its audit rows commit together. Scope and Actor are in scope.py."""
