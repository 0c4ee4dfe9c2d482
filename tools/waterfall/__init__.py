"""A trace as a terminal waterfall (tools/trace.py): layout (the structured
model), render (rich), source (which store, which trace, when complete)."""
