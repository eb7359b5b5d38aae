import subprocess
import sys


def test_the_ingress_loads_neither_faust_nor_aiohttp() -> None:
    probe = (
        "import sys, ingest.app, ingest.server; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'faust', 'aiohttp', 'mode'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
