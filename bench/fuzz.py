"""The loaders, the label CSV and the project file, fuzzed at length: tests/core/test_fuzz.py with many examples.

Each property: a file of damaged or random bytes loads as a sample or is refused with Unusable/UserError,
in under 5 s and 400 MB of peak memory per file. CI runs 60 examples per property; this runs
--examples per property (default 2000) and prints the time taken.

    python bench/fuzz.py [--examples 2000]
"""
import argparse
import os
import subprocess
import sys
import time

from _common import REPO, report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=2000)
    args = parser.parse_args()
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/core/test_fuzz.py"],
                            cwd=REPO, env={**os.environ, "FUZZ_EXAMPLES": str(args.examples)})
    seconds = time.perf_counter() - started
    print(f"{args.examples} examples per property, 5 properties, {seconds:.0f} s")
    report("fuzz", "every damaged file loads or is refused in words, within time and memory",
           result.returncode == 0, examples_per_property=args.examples, seconds=round(seconds))


if __name__ == "__main__":
    main()
