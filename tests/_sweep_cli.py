"""The command line with one more, tiny experiment registered, for tests that run a sweep as a
separate process (to kill it, interrupt it, or run two at once):

    python tests/_sweep_cli.py sweep test-faults --out DIR ...
"""
import sys

from udml.experiments.registry import Experiment, register

# Two methods, one seed, three epochs, two protocols: a few CPU seconds a job, and epochs long
# enough to be interrupted in the middle of one.
FAULTS = register(Experiment(
    "test-faults", ("mfeat",), ("static", "udml"), (0,), base={"epochs": 3},
    protocols=("clean", "random"), description="a tiny sweep for the fault tests (tests only)"))

if __name__ == "__main__":
    from udml.cli import main
    sys.exit(main(sys.argv[1:]))
