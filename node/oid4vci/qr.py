"""QR codes of credential offer links, drawn by segno (ISO/IEC 18004), as PNG and SVG."""

from __future__ import annotations

import io

import segno

# Error correction M (15 %) survives a phone camera on a printed or e-mailed code; the quiet
# zone of four modules is the standard's.
_ERROR = "m"
# What a QR code holds at that level: version 40, byte mode (ISO/IEC 18004 Table 7). An offer
# link is percent-encoded, so it is encoded byte by byte.
MAX_QR_BYTES = 2331


def qr_png(text: str, *, scale: int = 6) -> bytes:
    out = io.BytesIO()
    segno.make(text, error=_ERROR, micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_svg(text: str, *, scale: int = 6) -> str:
    out = io.BytesIO()
    segno.make(text, error=_ERROR, micro=False).save(
        out, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True, title="Credential offer", unit="px"
    )
    return out.getvalue().decode("utf-8")
