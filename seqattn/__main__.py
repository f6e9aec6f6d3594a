import sys

from seqattn.cli.commands import main

if __name__ == "__main__":
    sys.exit(main())
