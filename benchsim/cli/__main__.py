"""``python -m benchsim.cli``: the same as the ``benchsim`` script."""

from benchsim.cli import entry

if __name__ == "__main__":
    entry()
