"""Marshmallow schemas, by what they describe: write bodies (bodies.py), search bodies
(search.py) and responses (responses.py), all generated from the attribute tables. They
validate with the domain's value rules (values.py); loading.py reports the first failure."""
