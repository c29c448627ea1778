"""Trials of a process before it is published: the try-it panel (a version's rules over a
context or a recent case's data) and the what-if replay (a draft's rules over the last cases,
against the published version). Nothing here is stored. Above cases (it reads them) and
processes; its pages are routes of the processes blueprint, so their names stay
`processes.try_rules` and `processes.whatif`."""
