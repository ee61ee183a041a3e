"""Web plumbing: what every request passes through: the endpoint declaration and its path and
body loading, authentication, the request pipeline, the envelope and its error handlers, logs,
metrics and the /docs assets. The views in api/ stand on it; it imports no view."""
