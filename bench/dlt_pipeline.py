"""The same job with dlt: front matter dicts in, dlt's relational normalizer makes the tables.

    python bench/dlt_pipeline.py RAW_DIR OUT_DIR

One resource, `articles`, yields the front matter of each `**/*.md` file under RAW_DIR (parsed
with python-frontmatter; files that fail to parse are skipped). dlt infers the schema and
unnests the lists into child tables (`articles__related`, `articles__related__images`,
`articles__images`, `articles__topics`, ...), written as Parquet by the filesystem destination
under OUT_DIR/news/<table>/.

dlt's own state (pipelines dir, load packages) goes to a temporary folder beside OUT_DIR,
removed at the end, so nothing is written to $HOME; telemetry is off, so it runs offline.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

raw_dir, out_dir = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
out_dir.mkdir(parents=True, exist_ok=True)
work_dir = Path(tempfile.mkdtemp(prefix=f".dlt-{out_dir.name}-", dir=out_dir.parent))
os.environ["DLT_DATA_DIR"] = str(work_dir)  # before dlt is imported: it replaces ~/.dlt
os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"

import dlt
import frontmatter

skipped = 0


@dlt.resource(name="articles", write_disposition="replace")
def articles():
    global skipped
    for path in sorted(raw_dir.glob("**/*.md")):
        try:
            post = frontmatter.load(path)
        except Exception:  # noqa: BLE001 - skip what does not parse, as a user would
            skipped += 1
            continue
        if post.metadata:
            yield post.metadata
        else:
            skipped += 1  # no front matter


try:
    pipeline = dlt.pipeline(
        pipeline_name="newsfm_bench",
        destination=dlt.destinations.filesystem(bucket_url=str(out_dir)),
        dataset_name="news",
        pipelines_dir=str(work_dir / "pipelines"),
    )
    info = pipeline.run(articles(), loader_file_format="parquet")
    rows = pipeline.last_trace.last_normalize_info.row_counts
    print(f"{skipped} files skipped; rows: " + ", ".join(f"{name} {n}" for name, n in sorted(rows.items())))
    print(info)
finally:
    shutil.rmtree(work_dir, ignore_errors=True)
