"""Results layer: results folders, reading them back, charts, the report and comparisons.

Holds ``folders`` (writing a results folder safely), ``resultset`` (reading
one back, checked), ``plots`` (charts), ``report`` (the HTML report) and
``compare`` (several scenarios on common random numbers).

Layers, lowest first: inputs <- model <- ensemble <- results <- cli. Modules here
import only this layer, ``sim.ensemble``, ``sim.model``, ``sim.inputs`` and the
bottom modules (``sim.errors``, ``sim.limits``, ``sim.stats``). This file imports
nothing, so ``escsim plot`` loads neither Mesa nor numba.
"""
