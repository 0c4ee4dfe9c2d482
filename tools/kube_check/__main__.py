"""python -m tools.kube_check [--keep-installed] [--ci]   (make kube-check; --help)"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tools.kube_check.run import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
