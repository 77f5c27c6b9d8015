"""The interactive page (``escsim app``): a Solara app on the model core.

Explore a scenario with sliders, step one crisis day by day, run 1,000 and
compare with the unmodified scenario; play a role; or run a class game from
students' browsers. Every page drives the same compiled day, per-run
parameter sets, saved states and games as the command line: no second engine.
"""
