"""Benchmarks: each module compares one part of surrogate with its peers, side by side in one run.

Run one with ``python -m benchmarks NAME [--quick]``; results land in ``benchmarks/results/NAME.json``
and ``benchmarks/results/NAME.md``. Peers are installed from ``benchmarks/requirements.txt``, never by
the package itself. Every benchmark pins numerical threads (see :func:`benchmarks._common.pin_threads`)
and records the thread count and machine in its results.
"""
