"""Run this project's tests and check that strict mode and the failure report behave as documented:
the clean test passes, the typo test fails at teardown naming the field and its hint, and the failing
test's report lists its backend calls with their answers. Exit status 0 when all of that holds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "tests"],
        cwd=HERE,
        capture_output=True,
        text=True,
    )
    out = done.stdout + done.stderr
    expected = [
        "1 failed, 3 passed, 1 error",  # the typo test passes its call and errors at teardown
        "PASSED tests/test_backend_calls.py::test_clean_calls_pass",
        "PASSED tests/test_backend_calls.py::test_a_finding_the_test_expects_is_read_and_fails_it_not",
        "ERROR tests/test_backend_calls.py::test_a_typo_mesibo_would_ignore_fails_at_teardown",
        "mesibo-mock strict mode: 1 backend call mistake(s)",
        "'push.sounds' is not a field of pushset: ignored, as Mesibo ignores it (did you mean 'push.sound'?)",
        "FAILED tests/test_backend_calls.py::test_a_failing_test_lists_its_backend_calls",
        "mesibo-mock: backend calls during this test",
        "op=userdel (json) -> INVALIDVALUE 400",
        "'user.address' is not a user of this app: '654321'",
    ]
    missing = [line for line in expected if line not in out]
    if done.returncode == 0 or missing:
        print(out)
        print("check.py: missing from the run's output:", *missing, sep="\n  ")
        return 1
    print("strict mode and the failure report behave as documented")
    return 0


if __name__ == "__main__":
    sys.exit(main())
