"""``python -m sgdsm_cloud`` is the same as the ``sgdsm`` command."""

import sys

from sgdsm_cloud.cli import main

sys.exit(main())
