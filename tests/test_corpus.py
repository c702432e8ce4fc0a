"""The real corpus (../shared/corpus): every file is accounted for, with the reasons we expect."""

import os

from newsfm.pipelines.discover import read_batch, read_folder
from newsfm.transforms.normalize import normalize_batch
from newsfm.transforms.pipeline import tables_of, warehouse_frames
from tests.conftest import paths_under


def all_files(root):
    return sorted(os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/") for d, _, fs in os.walk(root) for f in fs)


def test_every_corpus_file_ends_in_sources_once(corpus):
    paths = paths_under(corpus)
    assert paths == all_files(corpus)  # the corpus has no hidden files
    tables = warehouse_frames([normalize_batch(read_batch(corpus, paths))])
    sources = tables["sources"]
    assert sources["source_path"].tolist() == paths
    status = sources.groupby(["kind", "status"]).size().to_dict()
    news = sum(1 for p in paths if p.endswith(".md") and p != "README.md")
    topics = sum(1 for p in paths if "/_data/topics/" in p)
    assert status == {
        ("article", "loaded"): news,
        ("article", "rejected"): 1,  # the corpus README, which has no front matter
        ("taxonomy", "loaded"): topics,
        ("other", "skipped"): sum(1 for p in paths if "/_data/tags/" in p),
    }
    assert len(tables["articles"]) == news
    assert sources["content_sha256"].str.len().eq(64).all()


def test_corpus_topics_resolve_to_the_taxonomy(corpus):
    tables = tables_of(read_folder(corpus))
    topics = tables["topics"].set_index("topic_id")
    used = set(tables["article_topics"]["topic_id"])
    assert used <= set(topics.index)
    assert topics.loc["aws-ai", "parent_topic_id"] == "ai"
    assert topics.loc["tensorflow", "parent_topic_id"] == "google-ai"
    assert (topics["origin"] == "taxonomy").all(), "every topic the corpus uses is in one of its taxonomies"


def test_site_relative_logo_urls_are_kept_as_written(corpus):
    providers = tables_of(read_folder(corpus))["providers"].set_index("provider_domain")
    assert providers.loc["qz.com", "logo_url"] == "/assets/images/organizations/qz.com-50x50.jpg"
