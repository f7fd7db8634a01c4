"""Text encodings of uploaded files: UTF-8 with or without BOM, or GB18030/GBK (what Excel in
China writes). Manifests and scan CSVs both decode through `decode_text`."""

from __future__ import annotations

#: What a file that `decode_text` cannot read is said not to be.
ACCEPTED = "UTF-8 or GB18030/GBK text"


def decode_text(data: bytes) -> str | None:
    """UTF-8 (BOM stripped) if it decodes, else GB18030 (a superset of GBK), else None."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return None
