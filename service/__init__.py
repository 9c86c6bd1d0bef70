"""The Flask web service: the only package that imports Flask (see the web service issue)."""
