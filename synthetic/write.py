"""Write a synthetic corpus (`synthetic.corpus`) to disk, for `newsfm generate` and benchmarks."""

from __future__ import annotations

from pathlib import Path

from newsfm.synthetic.corpus import generate_corpus


def write_corpus(count: int, out_dir: Path, seed: int = 0, style: str = "smartable") -> int:
    """Write `count` news files (front matter in `style`) and the topic taxonomy under `out_dir`;
    return how many files were written.

    Files are written as they are generated, so memory stays small at any count. Existing files
    of the same name are overwritten; other files in `out_dir` are left alone (write into an empty
    folder to benchmark exactly the generated corpus).
    """
    out_dir = Path(out_dir)
    made: set[Path] = set()
    written = 0
    for relative, data in generate_corpus(count, seed, style):
        target = out_dir / relative
        if target.parent not in made:  # a handful of folders: one mkdir each, not one per file
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        target.write_bytes(data)
        written += 1
    return written
