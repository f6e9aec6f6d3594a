import sys

from seqattn.cli import main

if __name__ == "__main__":
    sys.exit(main())
