"""Locations, problems, the exception tree and exit codes.

This module owns how hpconfig names *where* something is wrong (``Location``), *what* is wrong
with an input (``Problem``), and which exceptions stop a run. It imports nothing from the rest of
hpconfig and no third-party library, so every other module can use it.

Input problems are collected as ``Problem`` values and reported together; exceptions are for what
stops a run::

    HpconfigError                 base; .exit_code tells the CLI what to exit with
    ├── ImportVerificationError   import's manifests would not plan clean: a bug (exit 1)
    ├── InputError                invalid manifests, config or saved plan (exit 3); .problems,
    │                             shown as GitHub annotations too when .annotate
    ├── InputProblem              one input that cannot be used, and what to do (exit 3):
    │   │                         --controls that match nothing, the demo outside a clone,
    │   │                         the sandbox's port in use, a bad seed or state file
    │   ├── SettingsError         a setting: a bad URL or region, an unreadable secret file
    │   └── ReportPathError       a report cannot be written where asked (checked first)
    ├── RemoteError               anything across the network (exit 4)
    │   ├── AuthError             sign-in refused, token rejected twice
    │   └── ApiError              an API call failed: method, URL, status, server message
    ├── UnsafePlanError           a plan over the safety limits, or stale (exit 5)
    ├── UsageError                bad command line (exit 64; click's own usage errors too)
    └── OutputError               standard output could not be written (exit 74)

The CLI (``cli.app``) catches this tree in one place and turns each into its exit code; no
command exits or raises click's exceptions itself.

No exception, repr or message built here ever holds a secret: callers pass messages that name
variables, never their values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class ExitCode(enum.IntEnum):
    """Process exit codes; Terraform's meanings for 0/1/2, distinct codes for the rest."""

    OK = 0
    FAILURE = 1
    CHANGES = 2
    INVALID_INPUT = 3
    REMOTE = 4
    UNSAFE = 5
    ALARMS = 6  # check found alarms (or results in error) that are not waived or in the baseline
    USAGE = 64
    OUTPUT = 74  # standard output could not be written (EX_IOERR, as 64 is EX_USAGE)


@dataclass(frozen=True, order=True)
class Location:
    """A place in an input file: 1-based line and column (0 where unknown)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One input problem: where, the JSON path of the value, and a message a person understands."""

    location: Location
    path: str
    message: str
    severity: Severity = field(default=Severity.ERROR, compare=False)

    def __str__(self) -> str:
        where = f"{self.location}: "
        path = f"{self.path}: " if self.path else ""
        return f"{where}{path}{self.message}"

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "path": self.path,
            "message": self.message,
            "severity": self.severity.value,
        }


def problem_order(problem: Problem) -> tuple[str, int, int, str, str]:
    """The order ``sorted`` gives problems (file, line, column, path, message), as a key: the
    comparisons of dataclass order cost a second for 50,000 problems, this a few milliseconds."""
    where = problem.location
    return where.file, where.line, where.column, problem.path, problem.message


class HpconfigError(Exception):
    exit_code: ExitCode = ExitCode.FAILURE


class InputError(HpconfigError):
    """The inputs are invalid; ``problems`` lists every problem found, sorted."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, problems: list[Problem], annotate: bool = False) -> None:
        self.problems = sorted(problems, key=problem_order)
        self.annotate = annotate  # in GitHub Actions: annotations on the lines too
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the inputs")


class InputProblem(HpconfigError):
    """One input that cannot be used, in a message that says what to do (exit 3)."""

    exit_code = ExitCode.INVALID_INPUT


class SettingsError(InputProblem):
    """A setting is unusable (a bad URL, an unknown region, an unreadable secret file)."""


class ReportPathError(InputProblem):
    """A report cannot be written where asked; raised before the plan runs, or by the write."""


class OutputError(HpconfigError):
    """Standard output could not be written (closed, full): exit 74, EX_IOERR of sysexits."""

    exit_code = ExitCode.OUTPUT


class RemoteError(HpconfigError):
    exit_code = ExitCode.REMOTE


class AuthError(RemoteError):
    """Signing in failed, or the API refused the token twice."""


class ApiError(RemoteError):
    """An API call failed. The message names method, URL, status and the server's message."""

    def __init__(
        self, method: str, url: str, status: int | None, server_message: str, hint: str = ""
    ) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.server_message = server_message
        status_text = f"HTTP {status}" if status is not None else "no response"
        text = f"{method} {url} failed: {status_text}: {server_message}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)


class ImportVerificationError(HpconfigError):
    """The manifests import generated do not plan clean against the data they came from: a bug
    of hpconfig, so nothing is written (exit 1)."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"import wrote nothing: {detail}. This is a bug of hpconfig; please report it "
            "(with --debug output)"
        )


class UnsafePlanError(HpconfigError):
    exit_code = ExitCode.UNSAFE


class UsageError(HpconfigError):
    exit_code = ExitCode.USAGE
