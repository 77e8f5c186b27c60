"""msgspec imported without typing_extensions (``cli.lean_import``): the ledger's
bodies and records decode as they do with it, and the module is importable after."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from cli.lean_import import import_msgspec
import_msgspec()
assert "typing_extensions" not in sys.modules
import msgspec
from application.bodies import HeartbeatResponse
from cli.work_record import WorkRecord
from ledger.records import Record
import typing_extensions  # importable again for whatever loads next
body = (
    b'{"success":true,"claim":{"taskId":"t1","sessionId":"s",'
    b'"expiresAt":"2026-12-05T10:00:00.000Z","heartbeatCount":3,"fencingToken":2,"version":5}}'
)
print(msgspec.json.encode(msgspec.json.decode(body, type=HeartbeatResponse)).decode())
record = b'{"sessionId":"s","taskId":"t1","fencingToken":2,"store":"sqlite:///x.db","lost":null}'
print(msgspec.json.decode(record, type=WorkRecord))
print(sorted(msgspec.json.schema(Record)["$defs"]))
"""


def _run(lean: bool) -> str:
    code = PROBE if lean else PROBE.replace("import_msgspec()", "import typing_extensions")
    code = code.replace('assert "typing_extensions" not in sys.modules', "") if not lean else code
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_decoding_without_typing_extensions_is_decoding_with_it() -> None:
    lean = _run(lean=True)
    assert '"heartbeatCount":3' in lean
    assert lean == _run(lean=False)


def test_an_already_loaded_msgspec_is_left_alone() -> None:
    import msgspec

    from cli.lean_import import import_msgspec

    before = sys.modules.get("typing_extensions")
    import_msgspec()
    assert sys.modules["msgspec"] is msgspec
    assert sys.modules.get("typing_extensions") is before
