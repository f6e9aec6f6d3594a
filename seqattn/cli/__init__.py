"""Command line: ``python -m seqattn {train,evaluate,predict,compare,sweep,runs,talk}`` (:mod:`~seqattn.cli.commands`)."""

from seqattn.cli.commands import main

__all__ = ["main"]
