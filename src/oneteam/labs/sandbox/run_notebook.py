"""Runs inside the sandbox: execute a learner's notebook, then the lab's runner in its kernel.

    python run_notebook.py [--timeout S] NOTEBOOK EXECUTED -- SCRIPT [ARGS...]

Every cell of NOTEBOOK runs in order on an IPython kernel (nbclient); a last cell then
runs SCRIPT with ``%run -i``, in the kernel's namespace, so the runner finds the
functions the notebook defined. The executed notebook, outputs included, is written to
EXECUTED whatever happens. What the cells printed is echoed to stdout, errors to
stderr; the exit status is 1 if a cell failed.

This file runs with the sandbox's Python and imports nothing of OneTeam.
"""

from __future__ import annotations

import argparse
import shlex
import sys


def _echo(notebook) -> None:  # type: ignore[no-untyped-def]
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                stream = sys.stderr if output.get("name") == "stderr" else sys.stdout
                stream.write(output.get("text", ""))
            elif output.get("output_type") == "error":
                sys.stderr.write(f"{output.get('ename')}: {output.get('evalue')}\n")


def main() -> int:
    parser = argparse.ArgumentParser(prog="run_notebook")
    parser.add_argument("notebook")
    parser.add_argument("executed")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("script", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    script = args.script[1:] if args.script[:1] == ["--"] else args.script

    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    notebook = nbformat.read(args.notebook, as_version=4)
    if script:
        notebook.cells.append(nbformat.v4.new_code_cell(
            "%run -i " + " ".join(shlex.quote(part) for part in script)))
    # the kernel talks to this process over Unix sockets, not TCP (the sandbox has no
    # network but loopback, and needs none)
    manager = KernelManager(kernel_name="python3", transport="ipc")
    client = NotebookClient(notebook, km=manager, timeout=args.timeout,
                            kernel_name="python3", resources={"metadata": {"path": "/work"}})
    status = 0
    try:
        client.execute()
    except CellTimeoutError:
        sys.stderr.write(f"a cell ran longer than {args.timeout} s\n")
        status = 1
    except DeadKernelError as error:
        sys.stderr.write(f"the notebook's kernel died: {error}\n")
        status = 1
    except CellExecutionError:
        status = 1
    finally:
        nbformat.write(notebook, args.executed)
        _echo(notebook)
    return status


if __name__ == "__main__":
    sys.exit(main())
