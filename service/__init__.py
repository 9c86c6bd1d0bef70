"""The Flask web service (see the issue on the clerk's web service); the only package that imports Flask."""
