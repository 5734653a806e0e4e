"""``python -m benchsim.cli``: the same as the ``benchsim`` script."""

from benchsim.cli import main

if __name__ == "__main__":
    main(prog_name="benchsim")
