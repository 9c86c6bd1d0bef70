"""PDF output of forms: WeasyPrint for the built-in forms' HTML twins
(:func:`templates._pdf.html_to_pdf`), LibreOffice for .docx.

Built-in forms have an HTML twin written from the same design as their .docx template
(:mod:`templates.forms._design`), rendered by WeasyPrint with the Thai extension
(:mod:`templates._weasyprint_thai`): fast, no external program, and an exact Thai text
layer. An uploaded template exists only as .docx, so its PDF comes from LibreOffice
(``soffice --headless --convert-to pdf``), given Sarabun under the name the document asks
for (TH SarabunPSK) through a private fontconfig file. Without LibreOffice on the PATH,
:func:`docx_to_pdf` raises :class:`PdfUnavailable` (501); the .docx still works.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from saraban.folders import temporary_folder
from saraban.templates.forms._errors import ConversionFailed, PdfUnavailable

SOFFICE_NAMES = ("soffice", "libreoffice")
SOFFICE_SECONDS = 180  # a cold start on a small machine takes a few seconds; never hang


def soffice_path() -> str | None:
    """The LibreOffice program, or None when it is not installed."""
    for name in SOFFICE_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


_FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>{font_dir}</dir>
  <cachedir>{cache_dir}</cachedir>
  <alias binding="strong">
    <family>TH SarabunPSK</family><prefer><family>Sarabun</family></prefer>
  </alias>
  <alias binding="strong">
    <family>TH Sarabun New</family><prefer><family>Sarabun</family></prefer>
  </alias>
</fontconfig>
"""


def docx_to_pdf(docx: bytes) -> bytes:
    """Convert .docx bytes to PDF with LibreOffice headless, in a throw-away profile."""
    soffice = soffice_path()
    if soffice is None:
        raise PdfUnavailable(
            "ทำ PDF จากแม่แบบที่อัปโหลดต้องใช้ LibreOffice ซึ่งไม่ได้ติดตั้งไว้ "
            "(ดาวน์โหลดเป็น .docx ได้) / PDF of an uploaded template needs LibreOffice "
            "(soffice), which is not installed; the .docx is available"
        )
    from saraban.fonts import SARABUN_DIR

    with temporary_folder("saraban-soffice-") as tmp:
        work = Path(tmp)
        source = work / "form.docx"
        source.write_bytes(docx)
        conf = work / "fonts.conf"
        conf.write_text(
            _FONTS_CONF.format(font_dir=SARABUN_DIR, cache_dir=work / "fc-cache"), "utf-8"
        )
        env = {**os.environ, "FONTCONFIG_FILE": str(conf), "HOME": str(work)}
        command = [
            soffice,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            "--convert-to",
            "pdf:writer_pdf_Export",
            "--outdir",
            str(work),
            str(source),
        ]
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=work,
            start_new_session=True,
        )
        try:
            _, stderr = process.communicate(timeout=SOFFICE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise ConversionFailed(
                f"LibreOffice ไม่ตอบสนอง / LibreOffice did not finish within {SOFFICE_SECONDS} s"
            ) from None
        result = work / "form.pdf"
        if process.returncode != 0 or not result.exists():
            detail = stderr.decode("utf-8", "replace").strip()[-300:]
            raise ConversionFailed(
                f"LibreOffice แปลงเป็น PDF ไม่สำเร็จ / LibreOffice gave no PDF "
                f"(exit {process.returncode}): {detail}"
            )
        return result.read_bytes()
