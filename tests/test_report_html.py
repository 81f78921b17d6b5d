"""``report.html`` opened in a real headless Chromium: every table and every image renders, offline.

Needs the Debian ``chromium`` package (``apt-get install -y chromium``; ``.ci/run`` installs it). Where no
Chromium is found the browser tests skip with that reason (shown by ``pytest -ra``); the HTML checks that need
no browser always run.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from genept.evaluation.html import markdown_to_html
from genept.evaluation.report import plot_confusion, write_report

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium not found; install it with `apt-get install -y chromium`")

# Appended to a copy of the page: after load, record what the browser actually rendered into the DOM,
# which --dump-dom then prints.
_PROBE = """<script>
window.addEventListener("load", () => {
  const imgs = [...document.images];
  const tables = [...document.querySelectorAll("table")];
  document.body.setAttribute("data-probe", JSON.stringify({
    images: imgs.map(i => ({file: i.dataset.file, ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth,
                             shown: i.getBoundingClientRect().width})),
    tables: tables.map(t => ({rows: t.rows.length, height: t.getBoundingClientRect().height})),
  }));
});
</script>"""


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ]  # fmt: skip
    (tmp_path / "chromium-profile").mkdir(exist_ok=True)
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=180, check=False)


def _gene_results() -> dict:
    cov = {"n_genes": 100, "n_with_embedding": 80, "n_used": 75, "n_conflicting_labels": 0, "n_duplicates_merged": 0}
    classes = {
        "accuracy": 0.9, "f1_macro": 0.8, "classes": ["coding", "lncRNA", "miRNA"], "class_sizes": {"coding": 40, "lncRNA": 20, "miRNA": 15},
        "confusion_matrix": [[10, 2, 0], [1, 9, 1], [0, 1, 4]], "n_train": 53, "n_test": 28, "coverage": cov,
    }  # fmt: skip
    prop = {"n_pos": 30, "n_neg": 45, "coverage": cov, "logreg": {"auc": {"mean": 0.81, "sd": 0.02, "n": 5}}}
    return {
        "tasks": {"classes": {"minilm": classes, "random:minilm": classes}, "property:dosage_tfs.tsv": {"minilm": prop}},
        "skipped": {"ggi": "missing /data/gene2vec_ggi/train_text.txt"},
        "settings": {"seed": 0, "label_files": ["dosage_tfs.tsv"]},
    }


@pytest.fixture
def report(tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    plot_confusion(np.eye(4) * 5 + 1, list("abcd"), out / "extra_figure.png", title="extra")
    extra = "## Extra table\n\n| embedding | score |\n|---|---|\n| x | 0.5 |\n\n![an extra figure](extra_figure.png)\n"
    md = write_report(out, genes=_gene_results(), command="genept bench genes --embeddings minilm.npz -o report", extra=extra)
    return md.parent


def test_html_is_self_contained_and_matches_markdown(report):
    page = (report / "report.html").read_text()
    md = (report / "report.md").read_text()
    pngs = sorted(p.name for p in report.glob("*.png"))
    assert len(pngs) == 3
    # every PNG the Markdown links is embedded, none is linked by file name
    assert page.count('src="data:image/png;base64,') == len(re.findall(r"!\[[^\]]*\]\([^)]+\.png\)", md)) == 3
    assert not re.search(r'(src|href)="(?!data:)', page), "the page must not load anything from outside itself"
    assert "genept bench genes --embeddings minilm.npz -o report" in page and "numpy" in page
    assert page.count("<table>") == len(re.findall(r"^\|---", md, flags=re.M)) >= 3  # every Markdown table, at least ours
    assert "missing /data/gene2vec_ggi/train_text.txt" in page  # a skipped task names its missing file
    assert "This run scored the label file <code>dosage_tfs.tsv</code>" in page


def test_missing_figure_is_visible_not_broken():
    page = markdown_to_html("![gone](nowhere.png)")
    assert "missing figure: nowhere.png" in page and "<img" not in page


@needs_chromium
def test_report_renders_in_headless_chromium(report, tmp_path):
    probe = report / "probe.html"
    probe.write_text((report / "report.html").read_text().replace("</body>", _PROBE + "</body>"))
    run = _chromium(tmp_path, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri())
    found = re.search(r'data-probe="([^"]*)"', run.stdout)
    assert found, f"Chromium printed no probe result (exit {run.returncode}): {run.stderr[-2000:]}"
    seen = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert len(seen["images"]) == 3 and all(i["ok"] and i["w"] > 50 and i["shown"] > 50 for i in seen["images"]), seen
    n_tables = len(re.findall(r"^\|---", (report / "report.md").read_text(), flags=re.M))
    assert len(seen["tables"]) == n_tables >= 3 and all(t["rows"] >= 2 and t["height"] > 20 for t in seen["tables"]), seen

    shot = tmp_path / "report_screenshot.png"
    run = _chromium(tmp_path, "--window-size=1280,2400", f"--screenshot={shot}", (report / "report.html").as_uri())
    assert shot.is_file(), f"no screenshot (exit {run.returncode}): {run.stderr[-2000:]}"
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (2400, 1280) and pixels[..., :3].std() > 0.05  # not a blank page
    print(f"\nreport.html screenshot: {shot}")
