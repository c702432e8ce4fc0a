"""The pipeline a data scientist would write in a notebook: python-frontmatter + pandas.

    python bench/naive_pipeline.py RAW_DIR OUT_DIR

Reads every `**/*.md` under RAW_DIR, keeps the front matter of each file that parses, and writes
four flat tables as single Parquet files: OUT_DIR/{articles,related,images,topics}.parquet.
Files that fail to parse are skipped, as a notebook would (no ledger, no reasons). It is the
baseline of the benchmark (see bench/README.md); it is written plainly, not to be slow.
"""

import sys
from pathlib import Path

import frontmatter
import pandas as pd

raw_dir, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
out_dir.mkdir(parents=True, exist_ok=True)

# 1. Read the front matter of every Markdown file.
records, skipped = [], 0
for path in sorted(raw_dir.glob("**/*.md")):
    try:
        post = frontmatter.load(path)
    except Exception:  # noqa: BLE001 - skip what does not parse, as a user would
        skipped += 1
        continue
    if post.metadata:
        records.append(post.metadata)
    else:
        skipped += 1  # no front matter

# 2. Articles: one row per file, provider flattened to provider.name / provider.domain.
articles = pd.json_normalize(records)
articles["publishedDateTime"] = pd.to_datetime(articles["publishedDateTime"], utc=True, errors="coerce", format="mixed")
for column in ["quality", "heat"]:
    if column in articles:
        articles[column] = pd.to_numeric(articles[column], errors="coerce")
nested = ["related", "images", "topics", "provider.images"]
articles.drop(columns=nested, errors="ignore").to_parquet(out_dir / "articles.parquet")

# 3. Related items, images and topics, each keyed by the article's webUrl.
def with_list(field):
    return [r for r in records if isinstance(r.get(field), list) and r[field]]


related = pd.json_normalize(with_list("related"), record_path="related", meta=["webUrl"], meta_prefix="article.")
related["publishedDateTime"] = pd.to_datetime(related["publishedDateTime"], utc=True, errors="coerce", format="mixed")
related["quality"] = pd.to_numeric(related.get("quality"), errors="coerce")
related.drop(columns=["images", "provider.images"], errors="ignore").to_parquet(out_dir / "related.parquet")

images = pd.json_normalize(with_list("images"), record_path="images", meta=["webUrl"], meta_prefix="article.")
for column in ["width", "height"]:
    if column in images:
        images[column] = pd.to_numeric(images[column], errors="coerce")
images.to_parquet(out_dir / "images.parquet")

topics = articles[["webUrl", "topics"]].explode("topics").dropna().rename(columns={"topics": "topic"})
topics.astype(str).to_parquet(out_dir / "topics.parquet", index=False)

print(
    f"{len(records)} files read, {skipped} skipped; rows: articles {len(articles)}, related {len(related)}, "
    f"images {len(images)}, topics {len(topics)}"
)
