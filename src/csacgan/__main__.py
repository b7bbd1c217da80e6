"""``python -m csacgan`` (and ``torchrun ... -m csacgan train ...``): the command line."""
from .cli import main

if __name__ == "__main__":
    main()
