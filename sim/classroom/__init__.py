"""The classroom kit: handouts, a game played in the terminal, and its debrief.

A game is one run of the model (run K of ``escsim run`` with the same seed)
in which some actors' moves are chosen by people instead of the decision
rule; everything else is the model core's: the compiled day, saved states,
forced moves and the ensemble engine.
"""
