"""``python -m kdata`` runs the ``kdata`` command."""

from kdata.cli import main

if __name__ == "__main__":
    main(prog_name="kdata")
