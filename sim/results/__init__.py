"""Results layer: results folders, reading them back, charts, the report and comparisons.

Holds ``folders`` (writing a results folder safely), ``resultset`` (reading
one back, checked), ``plots`` (charts), ``report`` (the HTML report),
``compare`` (several scenarios on common random numbers) and ``replot``
(redrawing either kind of folder).

Layers, lowest first: bottom <- inputs <- model <- ensemble <- results <- cli,
where the bottom modules are ``sim.errors``, ``sim.limits``, ``sim.stats`` and
``sim.version``. Modules here import only this layer, the ensemble, the
model, the inputs and the bottom. This file imports nothing, so ``escsim plot``
loads neither Mesa nor numba (tests/test_layout.py, tests/test_charts.py).
"""
