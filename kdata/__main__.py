"""``python -m kdata`` runs the ``kdata`` command."""

from kdata.cli import run

if __name__ == "__main__":
    run()
