"""Parse ``kvcsi az ...`` and run it: errors and exit codes shaped like the Azure CLI's."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

from kvcsi.cli.az import aks, groups, keyvault, roles
from kvcsi.cli.home import Home, NotRunning
from kvcsi.cli.output import FORMATS, render
from kvcsi.cli.session import AzError, Session


class _AzArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"ERROR: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--output", "-o", choices=FORMATS, default="json")
    common.add_argument("--query")
    common.add_argument("--only-show-errors", action="store_true")
    common.add_argument("--subscription")
    parser = _AzArgumentParser(prog="kvcsi az", description=__doc__)
    commands = parser.add_subparsers(dest="group", required=True,
                                     parser_class=_AzArgumentParser)
    for module in (groups, aks, keyvault, roles):
        module.register(commands, common)
    return parser


def _sdk_error(error: HttpResponseError) -> AzError:
    code = getattr(getattr(error, "error", None), "code", None) or type(error).__name__
    message = getattr(getattr(error, "error", None), "message", None) or str(error.message)
    status = error.status_code
    return AzError(code, message, status, exit_code=3 if status == 404 else 1)


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    session = Session(Home.from_environment())
    try:
        result = args.handler(session, args)
    except NotRunning as error:
        sys.stderr.write(f"ERROR: {error}\n")
        return 1
    except AzError as error:
        sys.stderr.write(error.render() + "\n")
        return error.exit_code
    except ClientAuthenticationError as error:
        sys.stderr.write(_sdk_error(error).render() + "\n")
        return 1
    except HttpResponseError as error:
        failure = _sdk_error(error)
        sys.stderr.write(failure.render() + "\n")
        return failure.exit_code
    text = render(result, args.output, args.query)
    if text is not None:
        print(text)
    return 0
