import sys

from jupyter_mlexp.frontdoors.cli import main

sys.exit(main())
